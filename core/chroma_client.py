"""Opening Chroma: the embedded store under PKA_DATA_DIR, or a Chroma server when PKA_CHROMA_HOST is set; with
core.store_access and core.store, the only code that imports chromadb.
"""

from __future__ import annotations

from typing import Any

from core.config import Settings
from core.errors import StoreUnavailable


def open_client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
    except Exception as exc:  # connection and disk errors alike mean the store is not usable
        where = f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else settings.chroma_path
        raise StoreUnavailable(f"Could not open the vector store at {where}: {exc}") from exc


def forget_clients() -> None:
    """Drop chroma's per-process cache of open stores: call before deleting a store folder this process opened."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


def hnsw_config(settings: Settings) -> dict[str, Any]:
    return {
        "ef_search": settings.hnsw_ef_search,
        "ef_construction": settings.hnsw_ef_construction,
        "max_neighbors": settings.hnsw_max_neighbors,
    }
