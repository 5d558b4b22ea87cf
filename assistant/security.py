"""Access keys and redaction of personal data: small pure functions the API and the service share."""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Paths that stay open when keys are set: the liveness check and the API's own description (it holds no data).
OPEN_PATHS = frozenset({"/health", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"})
OPEN_PREFIXES = ("/docs/assets/",)  # Swagger UI's own script and stylesheet (assistant.api.docs)


def key_matches(presented: str | None, keys: Iterable[str]) -> bool:
    """Constant-time comparison against every key (no early exit, so timing says nothing about which matched)."""
    if not presented:
        return False
    given = presented.encode()
    found = False
    for key in keys:
        found |= hmac.compare_digest(given, key.encode())
    return found


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key from `Authorization: Bearer KEY` or `X-API-Key: KEY` (header names lower-case)."""
    auth = headers.get("authorization", "")
    scheme, _, value = auth.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    key = headers.get("x-api-key", "").strip()
    return key or None


@dataclass(frozen=True)
class Denied:
    status: int
    code: str
    message: str


def is_admin_path(path: str) -> bool:
    return path == "/admin" or path.startswith("/admin/")


def check_access(path: str, key: str | None, read_keys: tuple[str, ...], admin_keys: tuple[str, ...]) -> Denied | None:
    """None when the request may go on; else why not.

    No keys at all: everything is open (development). Read keys set: every route but OPEN_PATHS needs a read or
    an admin key. Admin routes need an admin key as soon as any key is set; a valid read key there gets 403.
    """
    if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
        return None
    if is_admin_path(path):
        if not read_keys and not admin_keys:
            return None
        if key_matches(key, admin_keys):
            return None
        if key_matches(key, read_keys):
            return Denied(403, "forbidden", "This route needs an admin key.")
        return Denied(401, "unauthorized", _missing(key))
    if not read_keys or key_matches(key, read_keys) or key_matches(key, admin_keys):
        return None
    return Denied(401, "unauthorized", _missing(key))


def _missing(key: str | None) -> str:
    if key is None:
        return "An API key is needed: send `Authorization: Bearer KEY` or `X-API-Key: KEY`."
    return "The API key is not valid."


# ---- redaction -----------------------------------------------------------------------------------------------

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_NAME_WORD = r"(?:[A-Z]['’])?[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+"), "[email]"),
    # NHS number: 10 digits, optionally 3-3-4 with spaces or hyphens
    (re.compile(r"(?<![\d+])\d{3}[ \-]?\d{3}[ \-]?\d{4}(?!\d)"), "[nhs-number]"),
    # UK phone numbers: +44 or a leading 0, then 9-10 more digits with spaces, hyphens or brackets between
    (re.compile(r"(?<![\w+])(?:\+44[\s\-]?(?:\(0\)[\s\-]?)?|\(?0)\d(?:[\s\-)]{0,2}\d){8,9}(?!\d)"), "[phone]"),
    # dates: 01/02/2003, 1.2.03, 2003-02-01, 1st February 2003, February 1, 2003
    (re.compile(r"\b\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}\b"), "[date]"),
    (re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b"), "[date]"),
    (re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\.?,?\s+\d{{2,4}}\b", re.I), "[date]"),
    (re.compile(rf"\b{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b", re.I), "[date]"),
    # UK postcodes: SW1A 1AA, M1 1AE, bn11 3pp
    (re.compile(r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)\s*\d[A-Z]{2}\b", re.I), "[postcode]"),
    # names: a title and a surname, or two or more capitalised words (best effort: it also hides some places)
    (re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s+{_NAME_WORD}(?:\s+{_NAME_WORD})*"), "[name]"),
    (re.compile(rf"\b{_NAME_WORD}(?:\s+{_NAME_WORD})+\b"), "[name]"),
)


def redact(text: str) -> str:
    """Hide obvious personal data before text is logged: emails, NHS and phone numbers, dates, postcodes, names."""
    for pattern, label in _REDACTIONS:
        text = pattern.sub(label, text)
    return text
