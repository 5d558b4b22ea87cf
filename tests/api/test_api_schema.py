"""The OpenAPI schema (what /openapi.json serves) describes every route's answer and its errors by named models."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.api.app import create_app
from core.config import Settings


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict[str, Any]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("schema"), embedding_backend="hashing", _env_file=None)  # type: ignore[call-arg]
    return create_app(settings).openapi()


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    methods = ("get", "post", "put", "patch", "delete")
    return [(m.upper(), path, op) for path, ops in schema["paths"].items() for m, op in ops.items() if m in methods]


def _model_of(media: dict[str, Any]) -> str | None:
    """The component a JSON body refers to (or a list of it); None for an inline or empty schema."""
    s = media.get("schema", {})
    ref = s.get("$ref") or s.get("items", {}).get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def test_every_route_answers_with_a_named_model(schema: dict[str, Any]) -> None:
    ops = _operations(schema)
    assert len(ops) >= 15
    for method, path, op in ops:
        success = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        assert success, f"{method} {path} documents no success response"
        for code, response in success.items():
            content = response.get("content", {})
            assert content, f"{method} {path} {code}: no content described"
            for media_type, media in content.items():
                if media_type == "application/json":
                    assert _model_of(media), f"{method} {path} {code}: JSON without a response model: {media}"
                else:  # a file or a stream: declared with its own media type and a schema
                    assert media.get("schema"), f"{method} {path} {code}: {media_type} without a schema"


def test_errors_are_described_by_the_error_body(schema: dict[str, Any]) -> None:
    for method, path, op in _operations(schema):
        for code, response in op["responses"].items():
            if code.startswith(("4", "5")):
                model = _model_of(response.get("content", {}).get("application/json", {}))
                assert model in ("ErrorBody", "InvalidRequest", "HealthDegraded"), f"{method} {path} {code}: {model}"
    error = schema["components"]["schemas"]["ErrorBody"]
    assert set(error["required"]) == {"error", "message"}


@pytest.mark.parametrize(
    ("method", "path", "model"),
    [
        ("GET", "/reviews", "ReviewList"),
        ("GET", "/themes", "ThemeList"),
        ("GET", "/glossary", "GlossaryTerms"),
        ("POST", "/ask", "AskResponse"),
        ("GET", "/admin/flagged", "FlaggedList"),
        ("GET", "/health", "Health"),
    ],
)
def test_routes_that_returned_bare_dicts_now_name_their_model(schema, method: str, path: str, model: str) -> None:
    op = schema["paths"][path][method.lower()]
    assert _model_of(op["responses"]["200"]["content"]["application/json"]) == model
