"""Read side: retrieval, conversation, extractive answers and the HTTP API."""
