"""Helpers to run the product's processes for tests and benchmarks; imports only the standard library and httpx."""
