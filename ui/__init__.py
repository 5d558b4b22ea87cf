"""Streamlit front end of the Partnership Knowledge Assistant (talks to the API over HTTP only)."""
