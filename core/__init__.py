"""Shared contracts of the Partnership Knowledge Assistant: types, settings, errors, embeddings, store."""
