"""Names dropped from a sentence or rendered only in part.

A document renders its names the same way again and again; what a name
becomes in most of its renderings here is its *usual rendering* (欧亚 ->
"Eurasian", 中华人民共和国 -> "People's Republic of China"). A sentence whose
English has none of the name's words, though the Chinese names it, has lost
the name: 中俄《欧亚经济伙伴关系协定》 -> "the Sino-Russian Economic
Partnership Agreement" (omission). A rendering that keeps fewer than half of
the usual words of a name of several words is garbled: 中华人民共和国主席 ->
"President of the people's ..." (entity).

A compound of names (中俄, CC-CEDICT "China-Russia") whose English keeps one
name and not the other in that clause is rendered in part too (minor):
中俄百名青年互访项目 -> "the 100-China Youth Exchange Program".

Only names whose usual rendering the document shows at least twice are
judged, and a name counts as present when any of its words (dictionary
glosses, pinyin, usual rendering) occurs anywhere in the sentence: a name
moved to another clause is not lost.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from align.audit.base import AuditContext, BeadView, Check, Tok
from align.lexicon import en_stems
from align.model import Finding, Span

MIN_RENDERED = 2        # renderings the document must show before it has a usual one
MIN_PARTIAL_CHARS = 4   # only long names (欧亚经济联盟, 中华人民共和国) can be rendered "in part"
USUAL_SHARE = 0.5       # a word belongs to the usual rendering when half of them use it
PARTIAL_SHARE = 0.5     # fewer than this share of the usual words present: rendered in part


@dataclass
class _Occ:
    bead: int
    tok: int
    stems: frozenset[str]       # stems of the local rendering that belong to the name


class NameCheck(Check):
    name = "names"
    kinds = ("omission", "entity")

    def run(self, ctx: AuditContext) -> list[Finding]:
        occ: dict[str, list[_Occ]] = defaultdict(list)
        views: dict[int, BeadView] = {}
        for k, b0 in enumerate(ctx.beads):
            if not (b0.src_segs and b0.tgt_segs):
                continue
            b = views[k] = ctx.fine(k)
            for i, t in enumerate(b.src_toks):
                if not _is_name(t):
                    continue
                got = frozenset().union(*(b.tgt_toks[j].stems for j in b.local.rendering(i))) & t.stems
                occ[t.text].append(_Occ(k, i, got))
        out: list[Finding] = []
        for name, items in occ.items():
            rendered = [o for o in items if o.stems]
            if len(rendered) < MIN_RENDERED:
                continue
            counts = Counter(s for o in rendered for s in o.stems)
            usual = frozenset(s for s, n in counts.items() if n >= USUAL_SHARE * len(rendered))
            if not usual:
                continue
            usual_words = _usual_words(ctx, views, rendered, usual)
            for o in items:
                b = views[o.bead]
                t = b.src_toks[o.tok]
                if not o.stems:
                    f = self._missing(ctx, b, o.tok, t, usual_words)
                elif (len(usual) >= 2 and len(t.text) >= MIN_PARTIAL_CHARS
                      and len(o.stems & usual) < PARTIAL_SHARE * len(usual)):
                    f = self._partial(ctx, b, o.tok, t, usual, usual_words)
                else:
                    f = None
                if f is not None:
                    out.append(f)
        out += self._compounds(ctx, views)
        return out

    @staticmethod
    def _compounds(ctx: AuditContext, views: dict[int, BeadView]) -> list[Finding]:
        """A compound of names (中俄 "China-Russia") with only some of its names
        rendered in its clause."""
        out: list[Finding] = []
        for k, b in views.items():
            for i, t in enumerate(b.src_toks):
                names = compound_names(ctx, t)
                js = b.local.rendering(i)
                if not names or not js:
                    continue
                clause = [c for c in b.tgt_clauses if any(j in c.toks for j in js)]
                there = frozenset().union(*(b.tgt_toks[j].stems for c in clause for j in c.toks))
                got = [n for n, st in names if st & there]
                lost = [n for n, st in names if not st & there]
                if not got or not lost:
                    continue
                es, ee = b.tgt_toks[js[0]].start, b.tgt_toks[js[0]].end
                out.append(ctx.finding(
                    "entity", "minor", k, [(t.start, t.end)], [(es, ee)], score=0.7,
                    message=(f"{t.text} (\"{'-'.join(n for n, _ in names)}\") joins {len(names)} names, but "
                             f"\"{ctx.tgt_text((es, ee))}\" keeps only {', '.join(got)}: "
                             f"{', '.join(lost)} is missing from this clause"),
                    signal="partial-name",
                ))
        return out


    @staticmethod
    def _missing(ctx: AuditContext, b: BeadView, i: int, t: Tok, usual_words: str) -> Finding | None:
        if t.stems & b.tgt_bag or _pinyin_present(ctx, b, t) or _acronym_present(b, usual_words):
            return None  # said somewhere in the sentence, maybe in another clause, or as "UN"
        if _title_of_person(b, i):
            return None  # 中华人民共和国主席习近平 -> "President Xi Jinping": the person names it
        at = _slot_span(b, i)
        return ctx.finding(
            "omission", "major" if len(t.text) > 1 else "minor", b.index, [(t.start, t.end)], [at] if at else [],
            score=0.8,
            message=(f"The name {t.text} (\"{usual_words}\" elsewhere in this document) has no rendering "
                     f"in this sentence"),
            where="name", usual=usual_words,
        )

    @staticmethod
    def _partial(ctx: AuditContext, b: BeadView, i: int, t: Tok, usual: frozenset[str],
                 usual_words: str) -> Finding | None:
        if len(usual & b.tgt_bag) >= PARTIAL_SHARE * len(usual):
            return None  # the rest of the name is in the sentence, in another clause
        js = b.local.rendering(i)
        spans = [(b.tgt_toks[j].start, b.tgt_toks[j].end) for j in js]
        here = " ".join(b.tgt_toks[j].text for j in js)
        return ctx.finding(
            "entity", "major", b.index, [(t.start, t.end)], spans, score=0.75,
            message=(f"The name {t.text} is rendered only in part as \"{here}\"; elsewhere this document "
                     f"renders it \"{usual_words}\""),
            signal="partial-name", usual=usual_words,
        )


_COMPOUND_SENSE = re.compile(r"^([A-Z][A-Za-z]+(?:-[A-Z][A-Za-z]+)+)(?:\s*\(.*\))?$")


def compound_names(ctx: AuditContext, t: Tok) -> list[tuple[str, frozenset[str]]]:
    """The names a compound name token joins, from its CC-CEDICT sense
    ("China-Russia" for 中俄), each with its stems; [] for other tokens."""
    if not _is_name(t):
        return []
    from align.audit.senses import load_senses

    for sense in load_senses().get(t.text, ())[:1]:
        m = _COMPOUND_SENSE.match(sense.strip())
        if m:
            names = m.group(1).split("-")
            out = [(n, frozenset(en_stems(n))) for n in names]
            if all(st for _, st in out):
                return out
    return []


def _gloss(ctx: AuditContext, t: Tok) -> str:
    full = [x for x in ctx.lex.expansions(t.text) if x in ctx.pair.src.text and x != t.text]
    return full[0] if full else t.text


def _is_name(t: Tok) -> bool:
    return t.content and t.proper and all("\u3400" <= c <= "\u9fff" for c in t.text)


def _pinyin_present(ctx: AuditContext, b: BeadView, t: Tok) -> bool:
    forms = ctx.lex.pinyin_forms(t.text, limit=16)
    return any(e.text.lower().replace("-", "") in forms for e in b.tgt_toks)


def _acronym_present(b: BeadView, words: str, ctx: AuditContext | None = None, toks=()) -> bool:
    """The name's initials as a token: "United Nations" -> "UN". ``words`` is
    the usual English rendering; with ``ctx`` the CEDICT senses of the
    Chinese tokens ``toks`` are tried too."""
    cands = [words]
    if ctx is not None:
        from align.audit.senses import load_senses, plain

        for i in toks:
            for w in (b.src_toks[i].text, _gloss(ctx, b.src_toks[i])):
                cands += [plain(s) for s in load_senses().get(w, ())[:3]]
    have = {e.text.upper().removesuffix("'S").removesuffix("’S") for e in b.tgt_toks}
    for c in cands:
        initials = "".join(w[0] for w in c.replace("-", " ").split()
                           if w[:1].isupper() and w.lower() not in ("of", "the", "and", "for"))
        if len(initials) >= 2 and initials.upper() in have:
            return True
        if c.strip().isupper() and c.strip() in have:
            return True
    return False


def _title_of_person(b: BeadView, i: int) -> bool:
    """A country or office before a title and a person's name (中华人民共和国
    主席 习近平): English names the person and drops the country."""
    toks = b.src_toks
    k, seen = i + 1, 0
    while k < len(toks) and seen <= 1:
        if toks[k].content:
            if toks[k].proper and k in b.local.zh_rendered and k != i:
                return seen == 1
            seen += 1
        k += 1
    return False


def _usual_words(ctx: AuditContext, views: dict[int, BeadView], rendered: list[_Occ],
                 usual: frozenset[str]) -> str:
    """The most frequent English wording of the usual rendering, for messages."""
    texts: Counter = Counter()
    for o in rendered:
        if not usual <= o.stems:
            continue
        b = views[o.bead]
        js = [j for j in b.local.rendering(o.tok) if b.tgt_toks[j].stems & usual]
        if js and max(js) - min(js) <= len(usual) + 2:
            texts[ctx.tgt_text((b.tgt_toks[min(js)].start, b.tgt_toks[max(js)].end))] += 1
    if texts:
        return texts.most_common(1)[0][0]
    return ", ".join(sorted(usual))


def _slot_span(b: BeadView, i: int) -> Span | None:
    """English words next to which the missing name belongs: the rendering of
    the nearest rendered word before it in its clause, else after it."""
    clause = next((c for c in b.src_clauses if i in c.toks), None)
    rendered = b.local.zh_rendered
    if clause is not None:
        before = [k for k in clause.toks if k < i and k in rendered]
        after = [k for k in clause.toks if k > i and k in rendered]
        for k in (before[-1:] + after[:1]):
            js = b.local.rendering(k)
            if js:
                j = max(js) if before and k == before[-1] else min(js)
                return (b.tgt_toks[j].start, b.tgt_toks[j].end)
    return None


__all__ = ["NameCheck"]
