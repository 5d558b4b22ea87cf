"""Measurement, not tests: question sets, metrics and reports for retrieval and answers."""
