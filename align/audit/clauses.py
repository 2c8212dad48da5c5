"""Clauses dropped, added or changed inside an aligned bead.

A bead is cut into clauses at punctuation (，；、： …) on both sides; jieba
tokens give the Chinese words. A clause's *support* is the share of its
content words that have a dictionary link to the other side **at the right
place**: a link counts only when the linked word is not better claimed by
another clause. Each clause gets a *home*, the other side's clauses it has
unambiguous links into (a clause without any sits between its neighbours'
homes); a word linked from several clauses (Syria, 叙利亚, 叙 …) belongs to
the clause whose home is nearest. So 就排雷等向叙提供协助 cannot borrow the
"Syria" of the previous English clause: only "Assistance" renders it.

How literal a translation is varies (a machine-translated statement vs. a
novel), so a clause is suspicious only when its support is an outlier for
its document: below ``median - Z * MAD`` of all clauses of the pair (Z: the
smallest cut that flags at most 1% of MAC-Dev gold beads). An embedding of
the clause against the other side's clause windows can then clear it: a
similarity that a clause reaches against an unrelated bead in only 0.1% of
cases (MAC-Dev) means it is translated in words the dictionary does not
know. A Chinese list item cut at 、 is embedded with its whole list, an
English one-word list item with its neighbours: alone they are too short to
embed (the price: one dropped list item is cleared with the encoder on).

A suspicious Chinese clause with a suspicious English clause at the same
place is a mistranslation; one without is an omission, reported at the
Chinese words that found no counterpart and at the English words where they
belong; a suspicious English clause left over is an addition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

import re

from align.audit.base import AuditContext, BeadView, Check, Clause
from align.audit.calibration import calibrated
from align.audit.links import local_links, support_links
from align.model import Finding, Span

# Z and SIM_CLEAR come from bench/audit_calibration.py (align/audit/calibration.json)
Z = 2.1
SIM_CLEAR = 0.628
MAD_FLOOR = 0.12
MAX_SUPPORT = 0.5     # never flag a clause with half of its words translated
MIN_CONTENT = 2       # content words a clause needs to be judged
_ZH_BREAK_NOT_LIST = re.compile(r"[，；：。！？,;:!?\n]|—")


@dataclass
class _Row:
    bead: int
    side: str            # "src" or "tgt"
    clause: Clause
    n: int               # content words
    support: float
    missing: tuple[int, ...]   # content tokens (indices into the side's tokens) without a local link
    kept: tuple[int, ...]      # other-side tokens this clause's local links reach
    sim: float | None = field(default=None)


class ClauseCheck(Check):
    name = "clauses"
    kinds = ("omission", "addition", "mistranslation")

    def __init__(self, z: float | None = None, sim_clear: float | None = None) -> None:
        self.z = calibrated("clauses.z", Z) if z is None else z
        self.sim_clear = calibrated("clauses.sim_clear", SIM_CLEAR) if sim_clear is None else sim_clear

    def run(self, ctx: AuditContext) -> list[Finding]:
        cands: dict[int, dict[str, list[_Row]]] = {}
        for side, rs in clause_rows(ctx).items():
            thr = outlier_threshold([r.support for r in rs if r.n >= MIN_CONTENT], self.z)
            if thr is None:
                continue
            sus = [r for r in rs if r.n >= MIN_CONTENT and r.support < thr]
            for r in self._uncleared(ctx, sus):
                cands.setdefault(r.bead, {"src": [], "tgt": []})[side].append(r)
        out: list[Finding] = []
        for bead, c in sorted(cands.items()):
            out += self._report(ctx, ctx.beads[bead], c["src"], c["tgt"])
        return out

    # ------------------------------------------------------------ evidence
    def _uncleared(self, ctx: AuditContext, rows: list[_Row]) -> list[_Row]:
        """Drop rows whose clause an embedding finds on the other side (one encoder call)."""
        if ctx.encoder is None or not rows:
            return rows
        wins = {(r.bead, r.side): windows(ctx, ctx.beads[r.bead], "tgt" if r.side == "src" else "src")
                for r in rows}
        ctx.prefetch([clause_text(ctx, r) for r in rows] + [w for ws in wins.values() for w in ws])
        keep = []
        for r in rows:
            ws = wins[(r.bead, r.side)]
            if ws:
                r.sim = float((ctx.vectors(ws) @ ctx.vectors([clause_text(ctx, r)])[0]).max())
            if r.sim is None or r.sim < self.sim_clear:
                keep.append(r)
        return keep

    # ------------------------------------------------------------ findings
    def _report(self, ctx: AuditContext, b: BeadView, zh: list[_Row], en: list[_Row]) -> list[Finding]:
        out: list[Finding] = []
        en_left = list(en)
        for r in zh:
            partner = _closest(b, r, en_left)
            if partner is not None:
                en_left.remove(partner)
                out.append(ctx.finding(
                    "mistranslation", "major", b.index,
                    [(r.clause.start, r.clause.end)], [(partner.clause.start, partner.clause.end)],
                    score=1.0 - (r.support + partner.support) / 2,
                    message=(f"\"{ctx.tgt_text((partner.clause.start, partner.clause.end))}\" does not "
                             f"render {ctx.src_text((r.clause.start, r.clause.end))}: meaning changed"),
                    support=round(r.support, 3), **_sim(r),
                ))
                continue
            out.append(self._omission(ctx, b, r))
        for r in en_left:
            words = ctx.tgt_text((r.clause.start, r.clause.end))
            out.append(ctx.finding(
                "addition", "major" if r.n >= 4 else "minor", b.index,
                [], [(r.clause.start, r.clause.end)], score=1.0 - r.support,
                message=f"\"{words}\" has no basis in the Chinese of this sentence",
                where="clause", support=round(r.support, 3), **_sim(r),
            ))
        return out

    @staticmethod
    def _omission(ctx: AuditContext, b: BeadView, r: _Row) -> Finding:
        """The missing Chinese words, and the English words where they belong."""
        clause_words = ctx.src_text((r.clause.start, r.clause.end))
        runs = _runs(b, r)
        zspan = (runs[0][0], runs[-1][1]) if runs else (r.clause.start, r.clause.end)
        missing_words = " … ".join(ctx.src_text(x) for x in runs) or clause_words
        at, insert_at = _insertion_point(b, r, zspan)
        rendered = ctx.tgt_text(at) if at and r.kept else ""
        if rendered:
            message = (f"{missing_words} (in the clause {clause_words}) has no counterpart in the English: "
                       f"only \"{rendered}\" renders this clause")
        else:
            message = f"Clause {clause_words} has no counterpart in the English translation of this sentence"
        return ctx.finding(
            "omission", "major" if len(r.missing) >= 2 or r.n >= 3 else "minor", b.index,
            runs or [zspan], [at] if at else [], score=1.0 - r.support, message=message,
            where="clause", clause=[r.clause.start, r.clause.end], insert_at=insert_at,
            support=round(r.support, 3), **_sim(r),
        )


# ---------------------------------------------------------------- support
def clause_rows(ctx: AuditContext) -> dict[str, list[_Row]]:
    """Support of every clause of every aligned bead, per side."""
    rows: dict[str, list[_Row]] = {"src": [], "tgt": []}
    for b in ctx.beads:
        if b.src_segs and b.tgt_segs:
            for side in ("src", "tgt"):
                rows[side].extend(_rows(ctx, b, side))
    return rows


def outlier_threshold(values: Sequence[float], z: float) -> float | None:
    """``median - z * MAD`` (robust z-score), capped; None with too few values."""
    if len(values) < 5:
        return None
    a = np.asarray(values, dtype=float)
    med = float(np.median(a))
    mad = max(float(np.median(np.abs(a - med))) * 1.4826, MAD_FLOOR)
    return min(med - z * mad, MAX_SUPPORT)


def _rows(ctx: AuditContext, b: BeadView, side: str) -> list[_Row]:
    mine = b.src_clauses if side == "src" else b.tgt_clauses
    other = b.tgt_clauses if side == "src" else b.src_clauses
    toks = b.src_toks if side == "src" else b.tgt_toks
    links = [(i, j) if side == "src" else (j, i) for i, j in support_links(b)]
    kept = local_links(mine, other, links)
    reach: dict[int, set[int]] = {}
    for i, j in kept:
        reach.setdefault(i, set()).add(j)
    extra = _unaligned_neighbour_bag(ctx, b, side)
    before, after = _broken_sentence_bags(ctx, b, side)
    out = []
    for k, cl in enumerate(mine):
        content = [t for t in cl.toks if toks[t].content]
        if not content:
            continue
        bag = extra | (before if k == 0 else frozenset()) | (after if k == len(mine) - 1 else frozenset())
        missing = tuple(t for t in content if t not in reach and not (toks[t].stems & bag))
        js = tuple(sorted({j for t in content for j in reach.get(t, ())}))
        out.append(_Row(b.index, side, cl, len(content), 1.0 - len(missing) / len(content), missing, js))
    return out


_FINAL = tuple(".!?。！？;；:：…\"'”’)）")


def _broken_sentence_bags(ctx: AuditContext, b: BeadView, side: str) -> tuple[frozenset[str], frozenset[str]]:
    """Words of the neighbouring beads' other side when a sentence of this side
    runs across the bead boundary ("... of the Northeast Tiger" | "and Leopard
    on the border."): the first (last) clause may be rendered next door."""
    segs = "src_segs" if side == "src" else "tgt_segs"
    bag = "tgt_bag" if side == "src" else "src_bag"
    before: frozenset[str] = frozenset()
    after: frozenset[str] = frozenset()
    if b.index > 0:
        prev = ctx.beads[b.index - 1]
        if getattr(prev, segs) and not getattr(prev, segs)[-1].text.rstrip().endswith(_FINAL):
            before = getattr(prev, bag)
    if b.index + 1 < len(ctx.beads) and not getattr(b, segs)[-1].text.rstrip().endswith(_FINAL):
        after = getattr(ctx.beads[b.index + 1], bag)
    return before, after


def _unaligned_neighbour_bag(ctx: AuditContext, b: BeadView, side: str) -> frozenset[str]:
    """Words of adjacent unaligned sentences: text the aligner split off this bead."""
    bag: set[str] = set()
    for k in (b.index - 1, b.index + 1):
        if 0 <= k < len(ctx.beads):
            nb = ctx.beads[k]
            if side == "src" and not nb.src_segs:
                bag |= nb.tgt_bag
            if side == "tgt" and not nb.tgt_segs:
                bag |= nb.src_bag
    return frozenset(bag)


# ------------------------------------------------------------- embeddings
def clause_text(ctx: AuditContext, r: _Row) -> str:
    """The clause as the embedding sees it: a list item cut at 、 is too short to
    embed alone ("全方位交往"), so it brings the rest of its list with it."""
    b = ctx.beads[r.bead]
    if r.side == "tgt":
        cls = b.tgt_clauses
        k = cls.index(r.clause)
        lo, hi = _en_list_span(cls, k)
        return ctx.tgt_text((cls[lo].start, cls[hi].end))
    seg = next(s for s in b.src_segs if s.start <= r.clause.start < s.end)
    a, e = _list_span(seg.text, r.clause.start - seg.start, r.clause.end - seg.start)
    return seg.text[a:e].strip()


def _en_list_span(cls: Sequence[Clause], k: int, item: int = 2) -> tuple[int, int]:
    """Clause k with the English list it heads or ends ("fair, inclusive, open,
    ... and sustainable development"): runs of one- or two-word clauses."""
    lo = hi = k
    if cls[k].n <= item:  # an item itself: take its neighbours
        lo, hi = max(0, k - 1), min(len(cls) - 1, k + 1)
    while hi + 1 < len(cls) and cls[hi + 1].n <= item:
        hi += 1
    if hi > k and cls[hi].n <= item and hi + 1 < len(cls):
        hi += 1  # the last item: "innovative and sustainable development"
    while lo > 0 and cls[lo - 1].n <= item:
        lo -= 1
    if lo < k and cls[lo].n <= item and lo > 0:
        lo -= 1
    return lo, hi


def _list_span(text: str, a: int, e: int) -> tuple[int, int]:
    """Widen [a, e) to its whole ，-clause when it is an item of a 、 list."""
    if not (text[:a].rstrip().endswith("、") or text[e:].lstrip().startswith("、")):
        return a, e
    starts = [m.end() for m in _ZH_BREAK_NOT_LIST.finditer(text, 0, a)]
    m = _ZH_BREAK_NOT_LIST.search(text, e)
    return (starts[-1] if starts else 0), (m.start() if m else len(text))


def windows(ctx: AuditContext, b: BeadView, side: str) -> list[str]:
    """Texts of 1 and 2 consecutive clauses of one side of a bead (a Chinese
    、 list counts as one clause)."""
    if side == "tgt":
        spans = [(c.start, c.end) for c in b.tgt_clauses]
        text = ctx.tgt_text
    else:
        spans = []
        for c in b.src_clauses:
            seg = next(s for s in b.src_segs if s.start <= c.start < s.end)
            a, e = _list_span(seg.text, c.start - seg.start, c.end - seg.start)
            span = (seg.start + a, seg.start + e)
            if not spans or spans[-1] != span:
                spans.append(span)
        text = ctx.src_text
    return [text((spans[a][0], spans[a + w - 1][1])).strip()
            for a in range(len(spans)) for w in (1, 2) if a + w <= len(spans)]


# --------------------------------------------------------------- placement
def _sim(r: _Row) -> dict:
    """The embedding similarity, when one was computed (JSON has no NaN)."""
    return {"sim": round(r.sim, 3)} if r.sim is not None else {}


def _rel(span: tuple[int, int], whole: tuple[int, int]) -> float:
    return ((span[0] + span[1]) / 2 - whole[0]) / max(1, whole[1] - whole[0])


def _closest(b: BeadView, r: _Row, en: list[_Row]) -> _Row | None:
    if not en:
        return None
    pos = _rel((r.clause.start, r.clause.end), b.src_span)
    best = min(en, key=lambda e: abs(_rel((e.clause.start, e.clause.end), b.tgt_span) - pos))
    if abs(_rel((best.clause.start, best.clause.end), b.tgt_span) - pos) > 0.35:
        return None
    return best


def _runs(b: BeadView, r: _Row) -> list[Span]:
    """The clause's unrendered content words as runs (function words between
    two of them join the run; a rendered word breaks it)."""
    runs: list[list[int]] = []
    missing = set(r.missing)
    prev_missing = False
    for t in r.clause.toks:
        tok = b.src_toks[t]
        if t in missing:
            if prev_missing and runs:
                runs[-1][1] = tok.end
            else:
                runs.append([tok.start, tok.end])
            prev_missing = True
        elif tok.content:
            prev_missing = False
    return [(a, e) for a, e in runs]


def _insertion_point(b: BeadView, r: _Row, zspan: Span) -> tuple[Span | None, int | None]:
    """English words next to which the missing Chinese words belong.

    The clause's own surviving rendering when it has one ("Assistance"),
    else the rendering of the nearest preceding Chinese word, else the first
    English word of the bead. Also returns the character offset of the gap.
    """
    toks = b.tgt_toks
    if r.kept:
        lo, hi = r.kept[0], r.kept[-1]
        if hi - lo > 6:  # scattered: keep the word nearest the start of the clause's rendering
            hi = lo
        span = (toks[lo].start, toks[hi].end)
        before = all(b.src_toks[i].start >= zspan[1] for i, j in b.links if j in r.kept)
        return span, span[0] if before else span[1]
    prev = [(b.src_toks[i].end, j) for i, j in b.links if b.src_toks[i].end <= zspan[0]]
    if prev:
        last = max(e for e, _ in prev)
        j = max(j for e, j in prev if e == last)
        return (toks[j].start, toks[j].end), toks[j].end
    if toks:
        return (toks[0].start, toks[0].end), toks[0].start
    return None, None
