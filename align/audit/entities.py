"""Names, places, organisations and titles rendered wrongly.

Three independent signals, none of which knows any particular name:

* repetition artefacts: a capitalised word repeated inside one hyphenated
  token ("European-European") is a machine-translation stutter;
* transliterated initials: a Chinese name written with initials
  (弗·弗·普京) must come out with as many one-letter initials in English;
  a syllable in their place ("F. Fu Putin", "De A. Medvedev") is wrong;
* unsupported names: a capitalised English word that neither the dictionary
  nor the pinyin of the Chinese bead explains, next to a Chinese name that
  found no English rendering (伊 read as Iran in context -> "Iraq",
  深圳 -> "... in Beijing"). If the unexplained English words are lowercase,
  the name was translated as an ordinary word: a mistranslation
  (叙人主导 -> "narrator-led").
"""

from __future__ import annotations

import re

from align.audit.base import AuditContext, BeadView, Check, Tok
from align.model import Finding
from align.numbers import MONTHS

_NAME_DOT = re.compile(r"[\u3400-\u9fff]+(?:\s*[·•・‧．]\s*[\u3400-\u9fff]+)+")
_CONNECT = {"of", "in", "for", "and", "the", "on", "de", "du", "la", "von", "van", "at"}
_CJK = re.compile(r"[\u3400-\u9fff]")


class EntityCheck(Check):
    name = "entities"
    kinds = ("entity", "mistranslation")

    def run(self, ctx: AuditContext) -> list[Finding]:
        out: list[Finding] = []
        for b in ctx.beads:
            if not b.tgt_segs:
                continue
            out += self._repetitions(ctx, b)
            if not b.src_segs:
                continue
            covered: set[int] = set()
            out += self._initials(ctx, b, covered)
            out += self._unsupported(ctx, b, covered)
        return out

    # ------------------------------------------------------------ artefacts
    def _repetitions(self, ctx: AuditContext, b: BeadView) -> list[Finding]:
        out = []
        for j, t in enumerate(b.tgt_toks):
            parts = re.split(r"[-‐‑]", t.text)
            if len(parts) >= 2 and any(
                parts[k] and parts[k] == parts[k + 1] and parts[k][0].isupper() and parts[k].isalpha()
                for k in range(len(parts) - 1)
            ):
                src = sorted({(b.src_toks[i].start, b.src_toks[i].end) for i, jj in b.links if jj == j})
                s, e = _en_name_run(ctx, b, j)
                out.append(ctx.finding(
                    "entity", "major", b.index, src, [(s, e)], score=0.95,
                    message=f'"{t.text}" repeats a word: a garbled name (machine-translation artefact)',
                    signal="repetition",
                ))
        return out

    # ------------------------------------------------------------- initials
    def _initials(self, ctx: AuditContext, b: BeadView, covered: set[int]) -> list[Finding]:
        out = []
        for seg in b.src_segs:
            for m in _NAME_DOT.finditer(seg.text):
                parts = re.split(r"\s*[·•・‧．]\s*", m.group(0))
                initials, surname = parts[:-1], parts[-1]
                zs, ze = seg.start + m.start(), seg.start + m.end()
                if len(initials[0]) > 1:
                    # "总理德·阿·…": the initial is the last character, if jieba made it a word
                    first = seg.start + m.start() + len(initials[0]) - 1
                    if not any(t.start == first and t.end == first + 1 for t in b.src_toks):
                        continue
                    initials[0], zs = initials[0][-1], first
                if not initials or any(len(p) != 1 for p in initials):
                    continue
                # English rendering of the surname: the token linked to it, else a pinyin match
                sur_toks = [i for i, t in enumerate(b.src_toks) if zs <= t.start < ze and t.text in surname]
                js = sorted({j for i, j in b.links if i in sur_toks and b.tgt_toks[j].text[:1].isupper()})
                if not js:  # jieba may cut a name CEDICT knows whole
                    want = ctx.lex.en_words(surname) | ctx.lex.pinyin_forms(surname)
                    js = [j for j, t in enumerate(b.tgt_toks)
                          if t.text[:1].isupper() and (t.stems & want or t.text.lower() in want)]
                if not js:
                    continue
                outside = {j2 for i2, j2 in b.links if not zs <= b.src_toks[i2].start < ze}
                js = [j2 for j2 in js if j2 not in outside] or js
                j = js[-1]
                text = ctx.pair.tgt.text
                # tokens right before the surname, stopping at punctuation other than ". "
                before: list[int] = []
                k = j - 1
                while k >= 0 and len(before) < len(initials) + 1:
                    gap = text[b.tgt_toks[k].end:b.tgt_toks[k + 1].start]
                    if gap.strip() not in ("", ".") or not b.tgt_toks[k].text[:1].isupper():
                        break
                    before.insert(0, k)
                    k -= 1
                letters = [k for k in before if len(b.tgt_toks[k].text) == 1]
                syllables = [k for k in before if len(b.tgt_toks[k].text) > 1]
                # the same character must give the same initial
                same_char_diff = any(
                    initials[a] == initials[a + 1] for a in range(len(initials) - 1)
                ) and len({b.tgt_toks[k].text[0].lower() for k in before}) == 1 and syllables
                if len(letters) == len(initials) and not syllables:
                    continue
                es = b.tgt_toks[before[0]].start if before else b.tgt_toks[j].start
                ee = b.tgt_toks[j].end
                covered.update(range(before[0] if before else j, j + 1))
                rendered = text[es:ee]
                out.append(ctx.finding(
                    "entity", "major", b.index, [(zs, ze)], [(es, ee)], score=0.9,
                    message=(f"Name {ctx.src_text((zs, ze))} has {len(initials)} initial(s) but is rendered "
                             f"\"{rendered}\": transliterated syllables instead of initials"
                             + (" (the same initial is written two ways)" if same_char_diff else "")),
                    signal="initials",
                ))
        return out

    # ---------------------------------------------------------- unsupported
    def _unsupported(self, ctx: AuditContext, b: BeadView, covered: set[int]) -> list[Finding]:
        pinyin: set[str] | None = None  # built on first need: most beads have no candidate
        bag = b.src_bag
        en_bad: list[int] = []
        for j, t in enumerate(b.tgt_toks):
            if not t.content or j in covered or j in b.tgt_linked or _acronym(t.text):
                continue
            if t.text.lower() in MONTHS or t.text == "I" or t.text.startswith(("I'", "I’")):
                continue
            if not _capitalised_mid_sentence(ctx, b, j):
                continue
            if t.stems & bag:
                continue
            if pinyin is None:
                pinyin = _pinyin_forms(ctx, b)
            if t.text.lower() in pinyin or any(p in pinyin for p in re.split(r"[-'’]", t.text.lower())):
                continue
            en_bad.append(j)
        zh_bad = [i for i, t in enumerate(b.src_toks)
                  if t.content and t.proper and i not in b.src_linked and _CJK.search(t.text)
                  and not _pinyin_rendered(t, b, ctx)]
        out: list[Finding] = []
        used_en: set[int] = set()
        for i in zh_bad:
            near = _neighbourhood(b, i)
            if any(_acronym(b.tgt_toks[j].text) for j in near):
                continue  # 联合国 -> "UN": an acronym we cannot check
            # an ambiguous character read the other way: 叙 (Syria) as "narrator"
            alt = _other_reading(ctx, b.src_toks[i].text) - b.src_bag
            misread = [j for j in sorted(near) if b.tgt_toks[j].stems & alt]
            wrong = [j for j in misread if j not in used_en]
            if misread and not wrong:
                continue  # the same misreading, already reported for an earlier occurrence
            if wrong:
                used_en.update(wrong)
                spans = [(b.tgt_toks[j].start, b.tgt_toks[j].end) for j in wrong]
                cap = all(b.tgt_toks[j].text[:1].isupper() for j in wrong)
                out.append(ctx.finding(
                    "entity" if cap else "mistranslation", "major", b.index,
                    [(b.src_toks[i].start, b.src_toks[i].end)], spans, score=0.9,
                    message=(f"{b.src_toks[i].text} stands for a name here, but the English reads it "
                             f"another way: \"{', '.join(b.tgt_toks[j].text for j in wrong)}\""),
                    signal="misread-abbreviation",
                ))
                continue
            cand_cap = [j for j in en_bad if j in near and j not in used_en
                        and not (b.tgt_toks[j].stems & alt)]
            if cand_cap:
                rel = _rel_src(b, i)
                j = min(cand_cap, key=lambda j: abs(_rel_tgt(b, j) - rel))
                used_en.add(j)
                s, e = _en_name_run(ctx, b, j)
                zs, ze = _zh_name_run(b, i, (s, e), ctx.lex)
                out.append(ctx.finding(
                    "entity", "major", b.index, [(zs, ze)], [(s, e)], score=0.85,
                    message=(f"Name {ctx.src_text((zs, ze))} is rendered \"{ctx.tgt_text((s, e))}\", "
                             f"which the Chinese does not support ({b.src_toks[i].text} ≠ {b.tgt_toks[j].text})"),
                    signal="unsupported-name",
                ))
                continue
        return out


def _other_reading(ctx: AuditContext, word: str) -> frozenset[str]:
    """Glosses of a token taken out of context (all readings of its characters)."""
    return ctx.lex.en_words(word)


def _acronym(w: str) -> bool:
    core = re.sub(r"['’]s$|s$", "", w)
    return len(core) >= 2 and core.isupper() and core.isalpha()


def _rel_src(b: BeadView, i: int) -> float:
    s0, s1 = b.src_span
    return (b.src_toks[i].start - s0) / max(1, s1 - s0)


def _rel_tgt(b: BeadView, j: int) -> float:
    t0, t1 = b.tgt_span
    return (b.tgt_toks[j].start - t0) / max(1, t1 - t0)


def _neighbourhood(b: BeadView, i: int, reach: int = 2, spread: int = 2) -> set[int]:
    """English tokens rendering the Chinese words next to token i, and their neighbours."""
    links: dict[int, list[int]] = {}
    for a, j in b.links:
        links.setdefault(a, []).append(j)
    near: set[int] = set()
    content = [k for k, t in enumerate(b.src_toks) if t.content]
    pos = content.index(i) if i in content else 0
    for k in content[max(0, pos - reach):pos + reach + 1]:
        for j in links.get(k, ()):
            near.update(x for x in range(j - spread, j + spread + 1) if 0 <= x < len(b.tgt_toks))
    return near


def _pinyin_forms(ctx: AuditContext, b: BeadView) -> set[str]:
    """Toneless pinyin of every 1-3 character stretch of the Chinese bead."""
    out: set[str] = set()
    for seg in b.src_segs:
        for run in re.findall(r"[\u3400-\u9fff]+", seg.text):
            for n in (1, 2, 3):
                for k in range(len(run) - n + 1):
                    out |= ctx.lex.pinyin_forms(run[k:k + n], limit=8)
    return out


def _pinyin_rendered(t: Tok, b: BeadView, ctx: AuditContext) -> bool:
    forms = ctx.lex.pinyin_forms(t.text, limit=16)
    return any(tt.text.lower() in forms for tt in b.tgt_toks)


def _capitalised_mid_sentence(ctx: AuditContext, b: BeadView, j: int) -> bool:
    t = b.tgt_toks[j]
    if not t.text[:1].isupper() or t.text.isupper() and len(t.text) > 1 and not t.text.isalpha():
        return False
    text = ctx.pair.tgt.text
    seg = next(s for s in b.tgt_segs if s.start <= t.start < s.end)
    before = text[seg.start:t.start].rstrip()
    if not before or not re.search(r"[A-Za-z0-9,’'\"]$", before):
        return False  # first word of a sentence, clause, item or quotation
    if before.endswith(('"', "“")) and len(before) >= 2 and before[-2] in " (":
        return False
    return True


def _en_name_run(ctx: AuditContext, b: BeadView, j: int) -> tuple[int, int]:
    """The capitalised phrase around token j ("Moscow University in Beijing")."""
    toks, text = b.tgt_toks, ctx.pair.tgt.text

    def joined(k: int) -> bool:  # toks k and k+1 are separated by spaces only
        return text[toks[k].end:toks[k + 1].start].strip() == ""

    def cap(k: int) -> bool:
        return toks[k].text[:1].isupper()

    lo = hi = j
    while lo > 0 and joined(lo - 1):
        if cap(lo - 1):
            lo -= 1
        elif toks[lo - 1].text.lower() in _CONNECT and lo - 2 >= 0 and joined(lo - 2) and cap(lo - 2):
            lo -= 2
        else:
            break
    while hi + 1 < len(toks) and joined(hi):
        if cap(hi + 1):
            hi += 1
        elif toks[hi + 1].text.lower() in _CONNECT and hi + 2 < len(toks) and joined(hi + 1) and cap(hi + 2):
            hi += 2
        else:
            break
    return toks[lo].start, toks[hi].end


def _zh_name_run(b: BeadView, i: int, en_span: tuple[int, int], lex=None) -> tuple[int, int]:
    """Token i plus adjacent tokens that are names or are rendered inside the English name."""
    in_name = {a for a, j in b.links if en_span[0] <= b.tgt_toks[j].start < en_span[1]}
    toks = b.src_toks

    def part(k: int) -> bool:  # a name, a word of the English name, or an unknown word (北理)
        return toks[k].content and (toks[k].proper or k in in_name or (lex is not None and toks[k].text not in lex))

    lo = hi = i
    while lo > 0 and toks[lo - 1].end == toks[lo].start and part(lo - 1):
        lo -= 1
    while hi + 1 < len(toks) and toks[hi].end == toks[hi + 1].start and part(hi + 1):
        hi += 1
    return toks[lo].start, toks[hi].end
