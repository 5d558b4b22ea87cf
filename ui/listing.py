"""The document list from GET /documents shaped for the library table and the sidebar filters. No Streamlit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.contracts import doc_type_label


def document_rows(documents: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows for the document library table."""
    rows = []
    for d in documents:
        rows.append(
            {
                "Title": d.get("title") or d.get("document_id"),
                "Type": doc_type_label(d.get("doc_type")),
                "Partnership": d.get("partnership") or "",
                "Year": d.get("year") if d.get("year") is not None else (d.get("date") or ""),
                "Chunks": d.get("chunks", 0),
                "Characters": d.get("chars", 0),
                "Source": d.get("source_url") or "",
                "Id": d.get("document_id"),
            }
        )
    return sorted(rows, key=lambda r: (str(r["Type"]), str(r["Title"])))


def partnerships_of(documents: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted({str(d.get("partnership")) for d in documents if d.get("partnership")})


def year_bounds(documents: Iterable[Mapping[str, Any]]) -> tuple[int, int] | None:
    years = [int(d["year"]) for d in documents if isinstance(d.get("year"), int)]
    return (min(years), max(years)) if years else None
