"""Strict alignment scoring against gold beads (the Vecalign/Bertalign metric)."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .model import AlignError

BeadPair = tuple[tuple[int, ...], tuple[int, ...]]
_LINE = re.compile(r"^\s*\[([\d,\s]*)\]\s*:\s*\[([\d,\s]*)\]\s*$")


def parse_align(text: str, name: str = "input") -> list[BeadPair]:
    """Parse `[i, j]:[k]` lines; a malformed line is an error, not a skip."""
    beads: list[BeadPair] = []
    for no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _LINE.match(line)
        if not m:
            raise AlignError(f"{name}:{no}: not an alignment line: {line.strip()[:60]!r}")
        beads.append(tuple(tuple(int(x) for x in re.findall(r"\d+", side)) for side in m.groups()))  # type: ignore[misc]
    return beads


def format_align(beads: Iterable[BeadPair]) -> str:
    return "".join(f"[{', '.join(map(str, s))}]:[{', '.join(map(str, t))}]\n" for s, t in beads)


def read_align(path: Path) -> list[BeadPair]:
    try:
        return parse_align(Path(path).read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        raise AlignError(f"{path}: cannot read ({exc.strerror})") from None


def bead_type(bead: BeadPair) -> str:
    return f"{len(bead[0])}-{len(bead[1])}"


@dataclass
class Score:
    """Strict precision/recall/F1, overall and per bead type."""

    tp: int = 0
    pred: int = 0
    gold: int = 0
    by_type: dict[str, list[int]] = field(default_factory=dict)  # type -> [tp_pred, pred, tp_gold, gold]

    @property
    def precision(self) -> float:
        return self.tp / self.pred if self.pred else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: "Score") -> "Score":
        out = Score(self.tp + other.tp, self.pred + other.pred, self.gold + other.gold, {k: list(v) for k, v in self.by_type.items()})
        for k, v in other.by_type.items():
            cur = out.by_type.setdefault(k, [0, 0, 0, 0])
            for i in range(4):
                cur[i] += v[i]
        return out

    def as_dict(self) -> dict:
        types = {}
        for k, (tp_p, n_p, tp_g, n_g) in sorted(self.by_type.items(), key=lambda kv: -kv[1][3]):
            p = tp_p / n_p if n_p else 0.0
            r = tp_g / n_g if n_g else 0.0
            types[k] = {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "pred": n_p, "gold": n_g}
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1, "pred": self.pred, "gold": self.gold, "by_type": types}


def score(pred: Sequence[BeadPair], gold: Sequence[BeadPair]) -> Score:
    """A predicted bead counts only if both of its sides equal a gold bead's."""
    gold_set = Counter(gold)
    pred_set = Counter(pred)
    s = Score()
    s.pred, s.gold = len(pred), len(gold)
    s.tp = sum((pred_set & gold_set).values())
    for b in pred:
        row = s.by_type.setdefault(bead_type(b), [0, 0, 0, 0])
        row[1] += 1
        row[0] += b in gold_set
    for b in gold:
        row = s.by_type.setdefault(bead_type(b), [0, 0, 0, 0])
        row[3] += 1
        row[2] += b in pred_set
    return s


def score_paths(pred: Path, gold: Path) -> tuple[Score, dict[str, Score]]:
    """Score a file against a file, or every `NAME.align` in a folder against its gold twin."""
    pred, gold = Path(pred), Path(gold)
    if pred.is_dir() != gold.is_dir():
        raise AlignError("give two files or two folders")
    if not pred.is_dir():
        s = score(read_align(pred), read_align(gold))
        return s, {pred.name: s}
    per: dict[str, Score] = {}
    gold_files = sorted(gold.glob("*.align"))
    if not gold_files:
        raise AlignError(f"{gold}: no .align files")
    total = Score()
    for g in gold_files:
        p = pred / g.name
        if not p.exists():
            raise AlignError(f"{p}: missing prediction for {g.name}")
        per[g.name] = score(read_align(p), read_align(g))
        total = total.add(per[g.name])
    return total, per


Span = tuple[int, int]


def locate_lines(text: str, lines: Sequence[str]) -> list[Span | None]:
    """Character spans of presplit sentences inside the running text they were cut
    from, found in order (None for an empty line or one not found verbatim)."""
    out: list[Span | None] = []
    cur = 0
    for line in lines:
        line = line.strip()
        k = text.find(line, cur) if line else -1
        out.append((k, k + len(line)) if k >= 0 else None)
        if k >= 0:
            cur = k + len(line)
    return out


def project_beads(beads: Sequence[BeadPair], src_spans: Sequence[Span], tgt_spans: Sequence[Span],
                  gold_src: Sequence[Span | None], gold_tgt: Sequence[Span | None]) -> list[BeadPair]:
    """Beads over our own sentences re-expressed over the gold standard's sentences
    of the same texts, so that the raw-text path can be scored against presplit gold:
    each gold sentence joins the bead holding most of its characters. (Where we cut a
    gold sentence in two and align the parts apart, the projection counts a miss.)"""

    def owners(spans: Sequence[Span], side: int, gold: Sequence[Span | None]) -> list[int | None]:
        bead_of = {s: k for k, bead in enumerate(beads) for s in bead[side]}
        starts = [s for s, _ in spans]
        out: list[int | None] = []
        for g in gold:
            best, most = None, 0
            if g is not None:
                k = max(bisect_right(starts, g[0]) - 1, 0)
                while k < len(spans) and spans[k][0] < g[1]:
                    common = min(spans[k][1], g[1]) - max(spans[k][0], g[0])
                    if common > most and k in bead_of:
                        best, most = bead_of[k], common
                    k += 1
            out.append(best)
        return out

    groups: dict[int, tuple[list[int], list[int]]] = {}
    for side, own in ((0, owners(src_spans, 0, gold_src)), (1, owners(tgt_spans, 1, gold_tgt))):
        for g, k in enumerate(own):
            if k is not None:
                groups.setdefault(k, ([], []))[side].append(g)
    return [(tuple(s), tuple(t)) for _, (s, t) in sorted(groups.items())]
