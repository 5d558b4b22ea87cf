"""The last step of every answer: contact details only from the deployment's signposting, and a question whether
to refer or report never answered "no" from a document.

Anyone who can drop a file into the knowledge folder can write
"the emergency number is 0800 …" or "no need to refer" into it; ingest flags the second kind (core/flagging.py),
and this module makes sure neither reaches a user even when a passage slips through:

* every phone number or e-mail address in the answer (and in the quotes it cites) that knowledge/signposting.yaml
  does not hold is withheld, and the signposting is shown instead;
* a question whether to refer, report or tell gets the procedure and the DSL first (signposting's
  `refer_or_report`, or the general duty below), and any quoted sentence that tells the reader not to refer or
  report is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from assistant.generate import RESET, OnToken
from assistant.signposting import Signposting
from core.flagging import flag_sentence
from core.text import sentence_spans
from core.types import Citation

WITHHELD = "[contact withheld: use the contacts below]"
# The general duty (Working Together), said when signposting.yaml gives no `refer_or_report` text of its own.
REFER_OR_REPORT = (
    "Whether to refer or report is not something a document in this knowledge base can rule out. If you are "
    "worried about a child, follow your safeguarding procedure: tell your Designated Safeguarding Lead (DSL) today, "
    "and if a child may be at risk of significant harm, refer to children's social care (anyone can make a "
    "referral, and you can seek advice from the front door first)."
)

# UK numbers: 0 or +44, then 9-10 more digits in groups; short public numbers (999, 111, 116 123) only when a
# calling word comes just before them, so "101 calls were made" and figures stay as they are.
_PHONE = re.compile(r"(?<![\w+])(?:\+\s?44\s?(?:\(0\)\s?)?|\(?0)\d{1,4}\)?(?:[ \-]?\d){6,9}(?![\d])")
_SHORT = re.compile(
    r"(?P<lead>\b(?:call|calling|dial|dialling|ring|phone|telephone|tel\.?|text|contact)\b[^\d\n.]{0,15}?)"
    r"(?P<num>(?<!\d)\d{3}(?: ?\d{3})?)(?!\d)",
    re.I,
)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")

_YES_NO = re.compile(
    r"^\W*(?:is|are|was|do|does|did|should|shall|must|can|could|would|will|need|have|has|am|ought)\b"
    r"|\bwhether\b|\bor not\b|\b(?:do|should|must|can) (?:i|we|they|you|staff)\b",
    re.I,
)
# Asking whether to pass a concern on: the duty verbs (the same domain fact as core/flagging.py), or a referral.
_DUTY_VERB = re.compile(
    r"\b(?:refer|report|tell|inform|notify|contact|call|escalate|share|pass (?:\w+ )?on|raise)\b", re.I
)
_DETERMINER = {"the", "a", "an", "annual", "this", "that", "our", "their", "its", "his", "her", "my", "your", "any"}
_REFERRAL = re.compile(
    r"\b(?:make|making|made|need|needs|needed|for|a|an|any|submit|required|necessary)\s+(?:a\s+)?referrals?\b"
    r"|\breferrals?\s+(?:is|are|be)?\s*(?:needed|required|necessary|warranted)\b",
    re.I,
)
_BARE_NO = re.compile(r"^\W*(?:no|not (?:needed|required|necessary))\b\W*(?:\[\d+\])?\W*$", re.I)


def is_refer_or_report_question(question: str) -> bool:
    """Does the question ask whether to refer, report or tell (a decision the procedures make, not a document)?

    Clause by clause: a yes/no form and the duty in the same clause. "Tell me …" asks the assistant, and a duty
    word after a determiner or a name ("the annual report", "the partnership's report") is a noun, not the duty."""
    for clause in re.split(r"[?!.;]+|\s[-–—]\s", question):
        if not _YES_NO.search(clause):
            continue
        if _REFERRAL.search(clause):
            return True
        for m in _DUTY_VERB.finditer(clause):
            before = clause[: m.start()].split()
            after = clause[m.end() :].split()[:1]
            if m.group(0).lower() == "tell" and after and after[0].lower() in ("me", "us"):
                continue
            if before and (before[-1].lower() in _DETERMINER or before[-1][:1].isupper() and before[-1] != "I"):
                continue
            return True
    return False


def _digits(number: str) -> str:
    d = re.sub(r"\D", "", number)
    return "0" + d[2:] if d.startswith("44") and len(d) > 10 else d


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif value is not None:
        yield str(value)


class ContactGuard:
    """The phone numbers and e-mail addresses the deployment's signposting gives: the only ones an answer shows."""

    def __init__(self, signposting: Signposting) -> None:
        texts = list(_strings(signposting.default)) + list(_strings(signposting.partnerships))
        joined = "\n".join(texts)
        self.numbers = {_digits(m.group(0)) for m in _PHONE.finditer(joined)}
        self.numbers |= {_digits(m.group("num")) for m in _SHORT.finditer(joined)}
        self.emails = {m.group(0).lower() for m in _EMAIL.finditer(joined)}

    def mask(self, text: str) -> tuple[str, int]:
        """The text with every contact the signposting does not give withheld, and how many were."""
        count = 0

        def phone(m: re.Match[str]) -> str:
            nonlocal count
            if _digits(m.group(0)) in self.numbers:
                return m.group(0)
            count += 1
            return WITHHELD

        def short(m: re.Match[str]) -> str:
            nonlocal count
            if _digits(m.group("num")) in self.numbers:
                return m.group(0)
            count += 1
            return m.group("lead") + WITHHELD

        def email(m: re.Match[str]) -> str:
            nonlocal count
            if m.group(0).lower() in self.emails:
                return m.group(0)
            count += 1
            return WITHHELD

        text = _EMAIL.sub(email, text)
        text = _PHONE.sub(phone, text)
        return _SHORT.sub(short, text), count


# The end of streamed text that may be the start of a phone number or an e-mail address: held back until it is whole.
_OPEN_TAIL = re.compile(r"(?:[\d()+\-]+[\d\s()+\-]*|[\w.+-]+@?[\w.-]*)$")


def guard_stream(on_token: OnToken, signposting: Signposting) -> Callable[[str], None]:
    """Wrap a streaming callback so that streamed model text shows no contact the signposting does not give.

    The masked text so far is re-derived on each token; a tail that may still grow into a number or an address is
    held back (the checked answer that ends every stream has it). Should masking change text already sent, the
    client is told to reset and gets the masked text again."""
    guard = ContactGuard(signposting)
    raw: list[str] = []
    sent = ""

    def on_masked(token: str) -> None:
        nonlocal sent
        if token == RESET:
            raw.clear()
            sent = ""
            on_token(RESET)
            return
        raw.append(token)
        text = "".join(raw)
        tail = _OPEN_TAIL.search(text)
        masked, _ = guard.mask(text[: tail.start()] if tail else text)
        if masked.startswith(sent):
            if len(masked) > len(sent):
                on_token(masked[len(sent) :])
        else:
            on_token(RESET)
            on_token(masked)
        sent = masked

    return on_masked


def _drop_negated_duty(text: str) -> str:
    """The answer without its sentences that tell the reader not to refer or report (or a bare "No")."""
    kept_lines = []
    for line in text.split("\n"):
        parts = [line[a:b] for a, b in sentence_spans(line)]
        kept = [p for p in parts if not flag_sentence(p) and not _BARE_NO.match(p)]
        if parts and not kept:
            continue
        if len(kept) == len(parts):
            kept_lines.append(line)
            continue
        lead = re.match(r"^\s*(?:[-*·•]|\d+[.)])\s+", line)
        body = " ".join(kept)
        kept_lines.append(body if not lead or body.startswith(lead.group(0).strip()) else lead.group(0) + body)
    return "\n".join(kept_lines).strip()


def make_safe(
    question: str,
    text: str,
    citations: list[Citation],
    signposting: Signposting,
    *,
    partnership: str = "",
    signposted: bool = False,
    abstained: bool = False,
) -> tuple[str, list[Citation]]:
    """The answer text and citations as a user may see them.

    Args:
        signposted: the caller shows the signposting anyway (an urgent message): it is not repeated here.
        abstained: the documents gave no answer (a refer-or-report question then gets the procedure alone).
    """
    guard = ContactGuard(signposting)
    show_signposting = False
    if is_refer_or_report_question(question):
        block = {**signposting.default, **signposting.partnerships.get(partnership, {})}
        docs = "" if abstained else _drop_negated_duty(text)
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", docs)}
        citations = [c for c in citations if c.n in cited]
        text = str(block.get("refer_or_report") or REFER_OR_REPORT)
        if docs:
            text += f"\n\n**What the documents say:**\n{docs}"
        show_signposting = True
    text, masked = guard.mask(text)
    safe_citations = []
    for c in citations:
        quote, n_quote = guard.mask(c.quote)
        passage, n_text = guard.mask(c.text)
        masked += n_quote + n_text
        safe_citations.append(c.model_copy(update={"quote": quote, "text": passage}) if n_quote or n_text else c)
    if masked:
        text += (
            "\n\nContact details are given only from this service's own signposting, never from a document; "
            "a number in a document may be out of date or wrong."
        )
        show_signposting = True
    if show_signposting and not signposted:
        text += "\n\n" + signposting.text(partnership)
    return text, safe_citations
