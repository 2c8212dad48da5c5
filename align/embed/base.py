"""The one interface every sentence encoder implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np


class Encoder(ABC):
    """Maps sentences to L2-normalised float32 vectors.

    ``name`` identifies the model in cache keys, so two encoders with the same
    name must produce the same vectors. ``calls`` counts sentences actually
    encoded (not served from a cache): the cost figure benchmarks report.
    """

    name: str = "encoder"
    #: Size of a composable state, 0 if the encoder has none. An encoder with
    #: states can give the vector of a run of consecutive sentences from the
    #: sentences' states (``run_vectors``), without encoding the joined text.
    state_dim: int = 0

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = np.asarray(self._encode(texts), dtype=np.float32)
        self.calls += len(texts)
        return normalise(vecs)

    def encode_states(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.state_dim), dtype=np.float32)
        states = np.asarray(self._states(texts), dtype=np.float32)
        self.calls += len(texts)
        return states

    def _states(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError(f"{self.name} has no composable states")

    def vectors_from_states(self, states: np.ndarray) -> np.ndarray:
        """Unit vectors of the sentences whose states are given."""
        raise NotImplementedError(f"{self.name} has no composable states")

    def run_vectors(self, states: np.ndarray, length: int) -> np.ndarray:
        """Unit vectors of every run of ``length`` consecutive sentences, in order of first sentence."""
        raise NotImplementedError(f"{self.name} has no composable states")

    def join_parts(self, states: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """States of texts read in consecutive parts: text g is the next ``counts[g]`` rows joined."""
        raise NotImplementedError(f"{self.name} has no composable states")

    @property
    @abstractmethod
    def dim(self) -> int:
        """Vector size."""

    @abstractmethod
    def _encode(self, texts: list[str]) -> np.ndarray:
        """Encode a non-empty list; normalisation is done by the caller."""


def normalise(vecs: np.ndarray) -> np.ndarray:
    """Unit-length rows; all-zero rows (empty text) stay zero instead of NaN."""
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return (vecs / np.where(norms == 0, 1, norms)).astype(np.float32, copy=False)


class WrappedEncoder(Encoder):
    """An encoder that adds behaviour around another (caching, timing).

    Name, size and the count of real encoder calls are the inner encoder's, so
    a wrapper never changes cache keys or cost figures.
    """

    def __init__(self, inner: Encoder) -> None:
        super().__init__()
        self.inner = inner
        self.name = inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def state_dim(self) -> int:  # type: ignore[override]
        return self.inner.state_dim

    def _states(self, texts: list[str]) -> np.ndarray:
        return self.inner.encode_states(texts)

    def vectors_from_states(self, states: np.ndarray) -> np.ndarray:
        return self.inner.vectors_from_states(states)

    def run_vectors(self, states: np.ndarray, length: int) -> np.ndarray:
        return self.inner.run_vectors(states, length)

    def join_parts(self, states: np.ndarray, counts: np.ndarray) -> np.ndarray:
        return self.inner.join_parts(states, counts)

    @property
    def calls(self) -> int:  # type: ignore[override]
        return self.inner.calls

    @calls.setter
    def calls(self, value: int) -> None:
        pass  # counted by the inner encoder

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self.inner.encode(texts)
