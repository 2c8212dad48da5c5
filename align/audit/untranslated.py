"""Text left in the wrong language.

* Chinese characters inside the English translation are always a defect.
* English words inside the Chinese ("水平 and 质量") are a defect of the
  source; acronyms and names (APEC, 5G, St. Petersburg) are normal there, so
  only lowercase words are reported.
The counterpart on the other side is located through the dictionary links of
the neighbouring words.
"""

from __future__ import annotations

import re

from align.audit.base import AuditContext, BeadView, Check
from align.model import Finding

_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff][\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]*")
_LATIN_WORDS = re.compile(r"(?<![A-Za-z0-9])[a-z]{2,}(?:[ \t]+[a-z]{2,})*(?![A-Za-z0-9])")


class UntranslatedCheck(Check):
    name = "untranslated"
    kinds = ("untranslated",)

    def run(self, ctx: AuditContext) -> list[Finding]:
        out: list[Finding] = []
        for b in ctx.beads:
            out += self._cjk_in_english(ctx, b)
            out += self._english_in_chinese(ctx, b)
        return out

    def _cjk_in_english(self, ctx: AuditContext, b: BeadView) -> list[Finding]:
        out = []
        text = ctx.pair.tgt.text
        for seg in b.tgt_segs:
            runs = list(_CJK_RUN.finditer(seg.text))
            if not runs:
                continue
            spans = [(seg.start + m.start(), seg.start + m.end()) for m in runs]
            src_spans = []
            for s, e in spans:
                word = text[s:e]
                for sseg in b.src_segs:
                    k = sseg.text.find(word)
                    if k >= 0:
                        src_spans.append((sseg.start + k, sseg.start + k + len(word)))
                        break
            words = ", ".join(text[s:e] for s, e in spans)
            out.append(ctx.finding(
                "untranslated", "major", b.index, src_spans, spans, score=1.0,
                message=f"Chinese left untranslated in the English: {words}", side="en",
            ))
        return out

    def _english_in_chinese(self, ctx: AuditContext, b: BeadView) -> list[Finding]:
        out = []
        for seg in b.src_segs:
            for m in _LATIN_WORDS.finditer(seg.text):
                s, e = seg.start + m.start(), seg.start + m.end()
                # English counterpart: from the rendering of the word before to the word after
                before = [i for i, t in enumerate(b.src_toks) if t.end <= s and t.content]
                after = [i for i, t in enumerate(b.src_toks) if t.start >= e and t.content]
                js: list[int] = []
                for group in (before[-1:], after[:1]):
                    js += [j for i, j in b.links if i in group]
                tgt = []
                if js:
                    lo, hi = min(js), max(js)
                    if hi - lo <= 6:
                        tgt = [(b.tgt_toks[lo].start, b.tgt_toks[hi].end)]
                zs = b.src_toks[before[-1]].start if before and b.src_toks[before[-1]].end >= s - 1 else s
                ze = b.src_toks[after[0]].end if after and b.src_toks[after[0]].start <= e + 1 else e
                out.append(ctx.finding(
                    "untranslated", "major", b.index, [(zs, ze)], tgt, score=0.9,
                    message=f"English words \"{m.group(0)}\" left in the Chinese source text",
                    side="zh",
                ))
        return out
