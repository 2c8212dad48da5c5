"""Idioms and compound terms rendered only in part (a changed meaning).

守望相助 is 守望 "keep watch" + 相助 "help one another"; its CC-CEDICT senses
are "to keep watch and defend one another" and "mutual help and protection".
"Watching each other" renders the first half word for word and loses the
help: no sense of the whole has most of its words in the English, one part
is rendered and another is not. Terms that become one English word whose
meaning is not in either part (基础设施 -> "infrastructure") have a sense
fully present and are left alone.

With an encoder, a candidate is kept only when the rendering is also less
similar to the Chinese term than the typical faithful rendering of such a
term in MAC-Dev human translations (calibrated percentile): a free but
faithful rendering (循序渐进 -> "gradual and orderly progress") is cleared.
"""

from __future__ import annotations

from dataclasses import dataclass

from align.audit.base import AuditContext, BeadView, Check
from align.audit.calibration import calibrated
from align.audit.senses import load_senses, plain, sense_stems
from align.lexicon import ZH_STOPWORDS
from align.model import Finding, Span

SENSE_MAJORITY = 0.5   # a sense with at least half of its words in the English is rendered
SIM_CLEAR = 0.424      # bench/audit_calibration.py: median term~rendering similarity on MAC-Dev
MIN_CHARS = 3          # idioms and compound terms, not ordinary two-character words


@dataclass
class TermCandidate:
    """A term with part of its meaning missing from the English."""

    bead: int
    tok: int
    parts: tuple[str, ...]
    rendered: tuple[str, ...]
    lost: tuple[str, ...]
    coverage: float           # best share of one sense's words found in the English
    rendering: Span
    sim: float | None = None


class TermCheck(Check):
    name = "terms"
    kinds = ("mistranslation",)

    def __init__(self, sim_clear: float | None = None) -> None:
        self.sim_clear = calibrated("terms.sim_clear", SIM_CLEAR) if sim_clear is None else sim_clear

    def run(self, ctx: AuditContext) -> list[Finding]:
        cands = term_candidates(ctx)
        score_renderings(ctx, cands)
        return [self._finding(ctx, c) for c in cands if c.sim is None or c.sim < self.sim_clear]

    @staticmethod
    def _finding(ctx: AuditContext, c: TermCandidate) -> Finding:
        b = ctx.beads[c.bead]
        t = b.src_toks[c.tok]
        senses = load_senses()
        meaning = "; ".join(plain(s) for s in senses.get(t.text, ())[:3])
        kept = ", ".join(f"{p} \"{_gloss(p)}\"" for p in c.rendered)
        lost = ", ".join(f"{p} \"{_gloss(p)}\"" for p in c.lost)
        return ctx.finding(
            "mistranslation", "major", c.bead, [(t.start, t.end)], [c.rendering],
            score=1.0 - c.coverage,
            message=(f"{t.text} means \"{meaning}\" (CC-CEDICT), but \"{ctx.tgt_text(c.rendering)}\" renders "
                     f"only {kept}: {lost} is lost"),
            signal="partial-term", coverage=round(c.coverage, 3),
            **({"sim": round(c.sim, 3)} if c.sim is not None else {}),
        )


def term_candidates(ctx: AuditContext) -> list[TermCandidate]:
    """Linked multi-part terms of aligned beads that the English renders only in part."""
    out: list[TermCandidate] = []
    for b in ctx.beads:
        if not (b.src_segs and b.tgt_segs):
            continue
        english = b.tgt_bag
        links: dict[int, list[int]] = {}
        for i, j in b.links:
            links.setdefault(i, []).append(j)
        for i, t in enumerate(b.src_toks):
            parts = term_parts(ctx, t.text) if t.content and not t.proper and i in links else None
            if not parts:
                continue
            rendered = tuple(p for p in parts if ctx.lex.en_words(p) & english)
            lost = tuple(p for p in parts if p not in rendered)
            if not rendered or not lost:
                continue
            whole = [s for s in (sense_stems(x) for x in load_senses().get(t.text, ())) if s]
            coverage = max((len(s & english) / len(s) for s in whole), default=0.0)
            if coverage >= SENSE_MAJORITY:
                continue
            out.append(TermCandidate(b.index, i, parts, rendered, lost, coverage,
                                     rendering_span(ctx, b, i, sorted(links[i]))))
    return out


def score_renderings(ctx: AuditContext, cands: list[TermCandidate]) -> None:
    """Embedding similarity of each term with its English rendering (one encoder call)."""
    if ctx.encoder is None or not cands:
        return
    pairs = [(ctx.beads[c.bead].src_toks[c.tok].text, ctx.tgt_text(c.rendering)) for c in cands]
    ctx.prefetch([x for p in pairs for x in p])
    for c, (zh, en) in zip(cands, pairs):
        v = ctx.vectors([zh, en])
        c.sim = float(v[0] @ v[1])


def term_parts(ctx: AuditContext, word: str) -> tuple[str, ...] | None:
    """A dictionary term made of two or more dictionary words of 2+ characters."""
    if len(word) < MIN_CHARS or word not in ctx.lex:
        return None
    parts = ctx.lex.split(word, len(word) - 1)
    if len(parts) < 2 or any(len(p) < 2 or p not in ctx.lex or p in ZH_STOPWORDS for p in parts):
        return None
    return tuple(parts)


def _gloss(word: str) -> str:
    senses = load_senses().get(word, ())
    return plain(senses[0]) if senses else ""


def rendering_span(ctx: AuditContext, b: BeadView, i: int, js: list[int]) -> Span:
    """The English words linked to token i (the nearest group), with the unlinked
    words right next to them ("Watching" + "each other")."""
    groups: list[list[int]] = [[js[0]]]
    for j in js[1:]:
        if j - groups[-1][-1] <= 3:
            groups[-1].append(j)
        else:
            groups.append([j])
    rel = (b.src_toks[i].start - b.src_span[0]) / max(1, b.src_span[1] - b.src_span[0])
    t0, t1 = b.tgt_span
    g = min(groups, key=lambda g: abs((b.tgt_toks[g[0]].start - t0) / max(1, t1 - t0) - rel))
    toks, text = b.tgt_toks, ctx.pair.tgt.text
    lo, hi = g[0], g[-1]
    for step in (1, -1):
        k, n = (hi, 0) if step == 1 else (lo, 0)
        while n < 2 and 0 <= k + step < len(toks) and k + step not in b.tgt_linked:
            a, c = sorted((k, k + step))
            if text[toks[a].end:toks[c].start].strip():
                break  # punctuation: the rendering ends here
            k += step
            n += 1
        if step == 1:
            hi = k
        else:
            lo = k
    return (toks[lo].start, toks[hi].end)
