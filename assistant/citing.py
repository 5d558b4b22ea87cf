"""Citations: one Citation per cited passage, numbered in order of first use, quoting the parts of it used."""

from __future__ import annotations

from core.types import Chunk, Citation


def citation(chunk: Chunk, *, n: int, quote: str, start: int, end: int) -> Citation:
    """A citation of `chunk` numbered `n`, quoting `quote` at [start, end) of the document's cleaned text."""
    return Citation(
        n=n,
        chunk_id=chunk.chunk_id,
        document_id=chunk.doc_id,
        title=chunk.title,
        section=chunk.section,
        page=chunk.page,
        text=chunk.text,
        quote=quote,
        start=start,
        end=end,
        doc_type=chunk.doc_type,
        partnership=chunk.partnership,
    )


class Citer:
    """Hands out [n] markers: a passage keeps the number of its first use, and each further part quoted from it
    is added to its quote."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.citations: list[Citation] = []

    def cite(self, chunk: Chunk, start: int, end: int) -> str:
        """The marker for the part [start, end) (document offsets) of `chunk`."""
        quote = chunk.text[start - chunk.start : end - chunk.start]
        n = self.numbers.get(chunk.chunk_id)
        if n is None:
            n = self.numbers[chunk.chunk_id] = len(self.numbers) + 1
            self.citations.append(citation(chunk, n=n, quote=quote, start=start, end=end))
        else:
            old = self.citations[n - 1]
            if quote not in old.quote:
                self.citations[n - 1] = old.model_copy(
                    update={"quote": f"{old.quote} … {quote}", "end": max(old.end, end)}
                )
        return f"[{n}]"
