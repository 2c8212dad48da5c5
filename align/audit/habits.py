"""A word the document always renders, lost where it heads its phrase.

A translation renders its recurring words the same way again and again:
this document renders 基础 as "basis" or "foundation" in all of its 19
other occurrences. When such a word has no rendering at all in one sentence,
no synonym the encoder recognises either, and it is the last word of its
Chinese phrase (Chinese puts the head of a noun phrase last: 坚实的世代友好
民意基础 is a *foundation*), the phrase has lost its head: "a solid
generation of friendly and public opinion".

Three pieces of evidence, each read against this document or calibrated on
MAC-Dev human translations (``bench/audit_calibration.py``):

* habit: every other occurrence of the word in the document has a dictionary
  rendering, and there are at least ``habits.min_seen`` of them (the
  smallest count at which MAC-Dev beads are flagged at most 0.5% of the
  time; ``habits.min_seen_lexical`` without an encoder);
* absence: no dictionary rendering anywhere in the sentence (nor in a
  neighbouring sentence the aligner split off), and, with an encoder, no
  English word of the sentence as similar to it as 80% of the dictionary
  renderings in MAC-Dev are to their Chinese word (``habits.sim_clear``);
* position: the word ends its Chinese phrase (punctuation or the end of the
  sentence follows it).

Names are the name check's business and are left out.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from align.audit.base import AuditContext, BeadView, Check, Tok, is_cjk
from align.audit.calibration import calibrated
from align.model import Finding, Span

MIN_SEEN = 3        # bench/audit_calibration.py: habits.min_seen
MIN_SEEN_LEXICAL = 5  # the same without an encoder: habits.min_seen_lexical
SIM_CLEAR = 0.473   # bench/audit_calibration.py: habits.sim_clear
_PHRASE_END = re.compile(r"[，；。：！？、,;:!?\n“”）)》—]")


@dataclass
class HabitCandidate:
    """A habitually rendered word without a rendering in this bead."""

    bead: int
    tok: int
    seen: int                 # other occurrences in the document, all rendered
    usual: str                # the commonest English wording of those renderings
    sim: float | None = None  # best embedding similarity with an English word of the bead


class HabitCheck(Check):
    name = "habits"
    kinds = ("omission",)

    def __init__(self, min_seen: int | None = None, sim_clear: float | None = None) -> None:
        self.min_seen = min_seen
        self.sim_clear = calibrated("habits.sim_clear", SIM_CLEAR) if sim_clear is None else sim_clear

    def run(self, ctx: AuditContext) -> list[Finding]:
        min_seen = self.min_seen
        if min_seen is None:  # without an encoder the absence rests on the dictionary alone
            key = "habits.min_seen" if ctx.encoder is not None else "habits.min_seen_lexical"
            min_seen = int(calibrated(key, MIN_SEEN if ctx.encoder is not None else MIN_SEEN_LEXICAL))
        cands = [c for c in habit_candidates(ctx) if c.seen >= min_seen]
        score_candidates(ctx, cands)
        return [self._finding(ctx, c) for c in cands if c.sim is None or c.sim < self.sim_clear]

    @staticmethod
    def _finding(ctx: AuditContext, c: HabitCandidate) -> Finding:
        b = ctx.fine(c.bead)
        t = b.src_toks[c.tok]
        at = slot_span(b, c.tok)
        phrase = ctx.src_text(phrase_span(ctx, b, c.tok))
        return ctx.finding(
            "omission", "major", c.bead, [(t.start, t.end)], [at] if at else [], score=0.75,
            message=(f"{t.text} (\"{c.usual}\" in all {c.seen} other places of this document) has no rendering "
                     f"here: the phrase {phrase} loses its head word"),
            where="head-word", usual=c.usual, seen=c.seen, **({"sim": round(c.sim, 3)} if c.sim is not None else {}),
        )


@dataclass
class Habit:
    """How the document renders one Chinese word: per occurrence (bead, token,
    the stems of its rendering there, empty when it has none)."""

    word: str
    occurrences: list[tuple[int, int, frozenset[str]]]
    wordings: tuple[str, ...] = ()   # its renderings' English words, commonest first

    @property
    def usual(self) -> str:
        return self.wordings[0] if self.wordings else ""

    def others(self, bead: int) -> list[tuple[int, int, frozenset[str]]]:
        return [o for o in self.occurrences if o[0] != bead]

    def always_elsewhere(self, bead: int) -> int:
        """Occurrences outside ``bead`` when every one of them is rendered, else 0."""
        others = self.others(bead)
        return len(others) if others and all(o[2] for o in others) else 0


def word_habits(ctx: AuditContext) -> dict[str, Habit]:
    """Every judged Chinese word of the aligned beads with its renderings
    (computed once per document)."""
    got = ctx.memo.get("habits")
    if got is not None:
        return got  # type: ignore[return-value]
    habits: dict[str, Habit] = {}
    for k, b0 in enumerate(ctx.beads):
        if not (b0.src_segs and b0.tgt_segs):
            continue
        b = ctx.fine(k)
        for i, t in enumerate(b.src_toks):
            if judged_word(t):
                got_stems = frozenset().union(*(b.tgt_toks[j].stems for j in b.local.rendering(i))) & t.stems
                habits.setdefault(t.text, Habit(t.text, [])).occurrences.append((k, i, got_stems))
    for h in habits.values():
        h.wordings = _wordings(ctx, [o for o in h.occurrences if o[2]])
    ctx.memo["habits"] = habits
    return habits


def habit_candidates(ctx: AuditContext) -> list[HabitCandidate]:
    """Phrase-final words with no rendering in their bead whose every other
    occurrence in the document is rendered (any count; the check keeps those
    seen often enough)."""
    from align.audit.clauses import _broken_sentence_bags, _unaligned_neighbour_bag

    out: list[HabitCandidate] = []
    for h in word_habits(ctx).values():
        for k, i, got in h.occurrences:
            seen = h.always_elsewhere(k)
            if got or not seen:
                continue
            b = ctx.fine(k)
            t = b.src_toks[i]
            before, after = _broken_sentence_bags(ctx, b, "src")
            bag = b.tgt_bag | _unaligned_neighbour_bag(ctx, b, "src") | before | after
            if t.stems & bag or any(a == i for a, _ in b.support) or not phrase_final(ctx, b, i):
                continue
            out.append(HabitCandidate(k, i, seen, h.usual))
    return out


def score_candidates(ctx: AuditContext, cands: list[HabitCandidate]) -> None:
    """Best similarity of each word with the English words of its bead (one encoder call)."""
    if ctx.encoder is None or not cands:
        return
    words = {c.bead: _english_words(ctx.fine(c.bead)) for c in cands}
    ctx.prefetch([ctx.fine(c.bead).src_toks[c.tok].text for c in cands] + [w for ws in words.values() for w in ws])
    for c in cands:
        ws = words[c.bead]
        if ws:
            c.sim = float((ctx.vectors(ws) @ ctx.vectors([ctx.fine(c.bead).src_toks[c.tok].text])[0]).max())


def _english_words(b: BeadView) -> list[str]:
    return sorted({t.text.lower() for t in b.tgt_toks if t.content})


def judged_word(t: Tok) -> bool:
    """A dictionary word (not a name, not a single character) in Chinese script."""
    return t.content and bool(t.stems) and not t.proper and len(t.text) >= 2 and is_cjk(t.text) \
        and all("\u3400" <= ch <= "\u9fff" for ch in t.text)


def phrase_final(ctx: AuditContext, b: BeadView, i: int) -> bool:
    """No other content word between token i and the next punctuation mark."""
    t = b.src_toks[i]
    seg = next(s for s in b.src_segs if s.start <= t.start < s.end)
    nxt = next((u for u in b.src_toks[i + 1:] if u.content and u.start < seg.end), None)
    between = ctx.src_text((t.end, nxt.start if nxt else seg.end))
    return nxt is None or bool(_PHRASE_END.search(between))


def phrase_span(ctx: AuditContext, b: BeadView, i: int) -> Span:
    """The Chinese phrase token i ends: back to the previous punctuation mark."""
    t = b.src_toks[i]
    seg = next(s for s in b.src_segs if s.start <= t.start < s.end)
    head = seg.text[:t.start - seg.start]
    cut = max((m.end() for m in _PHRASE_END.finditer(head)), default=0)
    start = seg.start + cut
    while start < t.start and not is_cjk(ctx.pair.src.text[start]) and not ctx.pair.src.text[start].isalnum():
        start += 1  # list markers and dashes before the phrase
    return (start, t.end)


def slot_span(b: BeadView, i: int) -> Span | None:
    """English words next to which the lost word belongs: the rendering of the
    nearest rendered word before it in its clause, else after it."""
    clause = next((c for c in b.src_clauses if i in c.toks), None)
    rendered = b.local.zh_rendered
    if clause is None:
        return None
    before = [k for k in clause.toks if k < i and k in rendered]
    after = [k for k in clause.toks if k > i and k in rendered]
    if before:
        j = max(b.local.rendering(before[-1]))
        return (b.tgt_toks[j].start, b.tgt_toks[j].end)
    if after:
        j = min(b.local.rendering(after[0]))
        return (b.tgt_toks[j].start, b.tgt_toks[j].end)
    return None


def _wordings(ctx: AuditContext, items, top: int = 3) -> tuple[str, ...]:
    """The commonest English wordings of the renderings (lowercased)."""
    texts: Counter = Counter()
    for k, i, got in items:
        b = ctx.fine(k)
        js = [j for j in b.local.rendering(i) if b.tgt_toks[j].stems & got]
        if js and max(js) - min(js) <= 3:
            texts[ctx.tgt_text((b.tgt_toks[min(js)].start, b.tgt_toks[max(js)].end)).lower()] += 1
    if texts:
        return tuple(w for w, _ in texts.most_common(top))
    return (", ".join(sorted(set().union(*(g for _, _, g in items)))[:3]),) if items else ()


__all__ = ["Habit", "HabitCandidate", "HabitCheck", "habit_candidates", "judged_word", "phrase_final",
           "score_candidates", "word_habits"]
