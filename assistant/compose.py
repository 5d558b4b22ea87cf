"""Extractive answers: kept as the import path of the answer step; the engine lives in assistant.answer (evidence
units, a fitted scorer, answers shaped by the question, abstention from a calibrated probability).
"""

from __future__ import annotations

from assistant.answer.engine import SIGNPOST, Candidates, Composer, Composition, abstain, render

__all__ = ["SIGNPOST", "Candidates", "Composer", "Composition", "abstain", "render"]
