"""Word links inside a bead: which words render which, and where.

A dictionary link (a Chinese word and an English word sharing a CC-CEDICT
stem) proves little on its own when the same word occurs in several clauses
(叙利亚 ... 叙 ... "Syria"). The checks therefore read *local* links: every
word on the other side is given to the clause(s) whose home is nearest
(:func:`local_links`), so a word only counts as rendered where its clause is
rendered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from align.audit.base import BeadView, Clause


def support_links(b: BeadView) -> list[tuple[int, int]]:
    """The bead's dictionary links plus near-misses of the light stemmer between
    words neither side has linked: "fairer" ~ fair, "all-round" ~ around
    (computed once per bead)."""
    return b.support


def near_miss_links(b: BeadView) -> list[tuple[int, int]]:
    """What :func:`support_links` returns, computed."""
    extra = []
    zh = [i for i in b.src_content() if i not in b.src_linked]
    en = [j for j in b.tgt_content() if j not in b.tgt_linked]
    for i in zh:
        zs = [s for s in b.src_toks[i].stems if len(s) >= 4]
        for j in en:
            if any(_near(z, e) for z in zs for e in b.tgt_toks[j].stems):
                extra.append((i, j))
    return sorted(b.links + extra) if extra else b.links


def _near(zh_stem: str, en_stem: str) -> bool:
    """One stem is the other plus a short ending, or a long stem sits inside the other."""
    if len(en_stem) < 4:
        return False
    short, long_ = sorted((zh_stem, en_stem), key=len)
    return long_.startswith(short) and len(long_) - len(short) <= 3 or len(short) >= 5 and short in long_


def local_links(mine: Sequence[Clause], other: Sequence[Clause],
                links: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
    """The links (my token, other token) that stay once every other-side word
    is given to the clause(s) whose home is nearest to it."""
    my_cl = {t: a for a, c in enumerate(mine) for t in c.toks}
    ot_cl = {t: k for k, c in enumerate(other) for t in c.toks}
    links = [(i, j) for i, j in links if i in my_cl and j in ot_cl]
    claimants: dict[int, set[int]] = {}
    for i, j in links:
        claimants.setdefault(j, set()).add(my_cl[i])
    home: list[set[int]] = [set() for _ in mine]
    for i, j in links:
        if len(claimants[j]) == 1:
            home[my_cl[i]].add(ot_cl[j])
    region: list[tuple[int, int]] = []
    for a in range(len(mine)):
        if home[a]:
            region.append((min(home[a]), max(home[a])))
            continue
        lo = max((max(h) for h in home[:a] if h), default=0)
        hi = min((min(h) for h in home[a + 1:] if h), default=max(len(other) - 1, 0))
        region.append((min(lo, hi), max(lo, hi)))

    def dist(a: int, k: int) -> int:
        if home[a]:
            return min(abs(k - h) for h in home[a])
        lo, hi = region[a]
        return 0 if lo <= k <= hi else min(abs(k - lo), abs(k - hi))

    kept: set[tuple[int, int]] = set()
    for i, j in links:
        cs = claimants[j]
        if len(cs) == 1 or dist(my_cl[i], ot_cl[j]) == min(dist(c, ot_cl[j]) for c in cs):
            kept.add((i, j))
    return kept



@dataclass(frozen=True)
class LocalLinks:
    """A bead's links seen from each side: ``zh`` holds (zh token, en token)
    pairs kept for the Chinese clause, ``en`` those kept for the English one."""

    zh: frozenset[tuple[int, int]]
    en: frozenset[tuple[int, int]]
    all: tuple[tuple[int, int], ...]

    @property
    def zh_rendered(self) -> set[int]:
        return {i for i, _ in self.zh}

    @property
    def en_explained(self) -> set[int]:
        return {j for _, j in self.en}

    def rendering(self, i: int) -> list[int]:
        """English tokens that render Chinese token i here."""
        return sorted(j for a, j in self.zh if a == i)


def bead_local_links(b: BeadView) -> LocalLinks:
    links = support_links(b)
    zh = local_links(b.src_clauses, b.tgt_clauses, links)
    en = local_links(b.tgt_clauses, b.src_clauses, [(j, i) for i, j in links])
    return LocalLinks(frozenset(zh), frozenset((i, j) for j, i in en), tuple(links))
