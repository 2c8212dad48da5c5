"""English sentences cut out of the middle of a Chinese phrase.

A machine translation that loses the thread of a long sentence often ends it
early and leaves the rest as a short sentence of its own: 推动国际秩序朝更加
公正合理的方向发展 -> "... a more just and rational international order.
Direction development."; ……开放包容透明的亚太地区安全架构 -> "... East Asia
Summit. Regional security architecture." Translators split long Chinese
sentences too, but at a clause boundary (，；：), never inside one phrase.

Evidence, from the words' dictionary links (:mod:`align.audit.links`): the
last rendered words before an English full stop and the first ones after it
come from one Chinese clause (cut at ，；。：！？ and quotation marks, not at
the list comma 、), and so do all the rendered words of the short sentence.
Only a short English sentence counts (at most ``fragments.max_words`` words,
the largest length at which MAC-Dev human translations show at most 0.2% of
beads with such a cut, see ``bench/audit_calibration.py``); dialogue
(quotation marks, "!" and "?") is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from align.audit.base import AuditContext, BeadView, Check
from align.audit.calibration import calibrated
from align.model import Finding, Span

MAX_WORDS = 9          # bench/audit_calibration.py: fragments.max_words
EDGE = 2               # rendered words on each side of the break that must share the clause
_ZH_CLAUSE = re.compile(r"[，；。：！？,;:!?\n“”「」『』\"]|——|……")
_QUOTE = tuple("\"'“‘”’")
_WORD = re.compile(r"[A-Za-z0-9]+(?:[-'’][A-Za-z]+)*")


class FragmentCheck(Check):
    name = "fragments"
    kinds = ("mistranslation",)

    def __init__(self, max_words: int | None = None) -> None:
        self.max_words = int(calibrated("fragments.max_words", MAX_WORDS)) if max_words is None else max_words

    def run(self, ctx: AuditContext) -> list[Finding]:
        out: list[Finding] = []
        for k, b0 in enumerate(ctx.beads):
            if b0.src_segs and len(b0.tgt_segs) >= 2:
                b = ctx.fine(k)
                out += [self._finding(ctx, b, c) for c in cuts(b, self.max_words)]
        return out

    @staticmethod
    def _finding(ctx: AuditContext, b: BeadView, c: Cut) -> Finding:
        frag = ctx.tgt_text(c.fragment).strip()
        tail = ctx.tgt_text(c.tail)
        phrase = ctx.src_text(c.phrase)
        return ctx.finding(
            "mistranslation", "major", b.index, [c.before_src, c.phrase], [(c.tail[0], c.fragment[1])],
            score=0.8,
            message=(f"The English ends a sentence in the middle of the Chinese phrase {phrase}: \"{frag}\" "
                     f"stands alone, cut off from \"…{tail}\"; the words around the break are likely out of "
                     f"order or lost"),
            signal="fragment", words=c.words,
        )


@dataclass(frozen=True)
class Cut:
    """A sentence break inside a Chinese clause, as spans: the last words before
    the full stop, the stranded sentence after it, the Chinese word rendered
    just before the break and the Chinese words the stranded sentence renders."""

    tail: Span
    fragment: Span
    before_src: Span
    phrase: Span
    words: int


def clause_index(b: BeadView) -> dict[int, tuple[int, int]]:
    """Chinese token -> (segment, clause) it belongs to (the list comma 、 does not cut)."""
    out: dict[int, tuple[int, int]] = {}
    for seg in b.src_segs:
        cuts_at = [seg.start + m.end() for m in _ZH_CLAUSE.finditer(seg.text)]
        for i, t in enumerate(b.src_toks):
            if seg.start <= t.start < seg.end:
                out[i] = (seg.index, sum(1 for c in cuts_at if c <= t.start))
    return out


def cuts(b: BeadView, max_words: int) -> list[Cut]:
    """Breaks between consecutive English sentences of the bead where the short
    second sentence renders the same Chinese clause as the end of the first."""
    cl = clause_index(b)
    src_of: dict[int, set[int]] = {}
    for i, j in b.local.en:
        src_of.setdefault(j, set()).add(i)

    def linked(seg) -> list[int]:
        return [j for j, t in enumerate(b.tgt_toks) if seg.start <= t.start < seg.end and j in src_of]

    def clauses(j: int) -> set[tuple[int, int]]:
        return {cl[i] for i in src_of[j] if i in cl}

    out: list[Cut] = []
    for s1, s2 in zip(b.tgt_segs, b.tgt_segs[1:]):
        t1, t2 = s1.text.strip(), s2.text.strip()
        if not t1.endswith(".") or t1.endswith(_QUOTE) or t2.startswith(_QUOTE) or not t2[:1].isupper():
            continue
        words = len(_WORD.findall(t2))
        if words > max_words:
            continue
        before, after = linked(s1), linked(s2)
        if not before or not after:
            continue
        shared: set[tuple[int, int]] | None = None
        for j in before[-EDGE:] + after:
            shared = clauses(j) if shared is None else shared & clauses(j)
        if not shared:
            continue
        clause = min(shared)
        jb = before[-1]
        first = next(j for j, t in enumerate(b.tgt_toks) if t.start >= s1.start)
        tail = (b.tgt_toks[max(first, jb - 2)].start, s1.start + len(s1.text.rstrip()))
        src_b = [b.src_toks[i] for i in src_of[jb] if cl.get(i) == clause]
        src_a = [b.src_toks[i] for j in after for i in src_of[j] if cl.get(i) == clause]
        phrase = (min(t.start for t in src_a), max(t.end for t in src_a))
        near = min(src_b, key=lambda t: abs(t.start - phrase[0]))
        fs, fe = s2.start + (len(s2.text) - len(s2.text.lstrip())), s2.start + len(s2.text.rstrip())
        out.append(Cut(tail, (fs, fe), (near.start, near.end), phrase, words))
    return out


__all__ = ["FragmentCheck", "cuts"]
