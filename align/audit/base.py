"""Shared machinery of the audit checks.

Every check reads the same per-bead evidence (tokens with absolute offsets,
dictionary stems, numbers, clauses, embeddings), so it is computed once in
:class:`AuditContext` and passed to each :class:`Check`. Offsets are always
into ``Document.text`` of the side they belong to.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np

from align.lexicon import ZH_STOPWORDS, Lexicon, en_stems, is_zh_content, load_lexicon
from align.model import Finding, PairResult, Segment, Span
from align.numbers import _ZH_UNITS, NumberMention, extract_quantities

MQM = {
    "omission": "Accuracy/Omission",
    "addition": "Accuracy/Addition",
    "mistranslation": "Accuracy/Mistranslation",
    "entity": "Terminology/Wrong term",
    "number": "Accuracy/Mistranslation/Number",
    "inconsistency": "Terminology/Inconsistent use",
    "untranslated": "Accuracy/Untranslated",
}
SEVERITY_RANK = {"critical": 0, "major": 1, "minor": 2}

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# clause boundaries: Chinese and Western punctuation, dashes; not a decimal point
_ZH_CLAUSE_BREAK = re.compile(r"[，；、：。！？,;:!?\n]|——|—|（[^）]{0,6}）|\([^)]{0,6}\)")
_EN_CLAUSE_BREAK = re.compile(r"[;:!?\n]|,(?!\d{3})|\.(?!\d)|--|—|–|\(\d{1,3}\)")


@dataclass(frozen=True)
class Tok:
    """A word token: absolute offsets, its text, dictionary stems, content flag."""

    start: int
    end: int
    text: str
    stems: frozenset[str]
    content: bool
    proper: bool = False  # a name: CEDICT proper noun (zh) / capitalised word (en)


@dataclass(frozen=True)
class Clause:
    """A run of tokens between punctuation; ``toks`` index into the bead side's tokens."""

    start: int
    end: int
    toks: tuple[int, ...]

    @property
    def n(self) -> int:
        return len(self.toks)


@dataclass
class BeadView:
    """One bead with everything the checks read."""

    index: int
    src_segs: tuple[Segment, ...]
    tgt_segs: tuple[Segment, ...]
    src_toks: list[Tok]
    tgt_toks: list[Tok]
    src_nums: list[NumberMention]
    tgt_nums: list[NumberMention]
    src_clauses: list[Clause]
    tgt_clauses: list[Clause]

    @property
    def src_span(self) -> Span | None:
        return (self.src_segs[0].start, self.src_segs[-1].end) if self.src_segs else None

    @property
    def tgt_span(self) -> Span | None:
        return (self.tgt_segs[0].start, self.tgt_segs[-1].end) if self.tgt_segs else None

    @cached_property
    def src_bag(self) -> frozenset[str]:
        return frozenset().union(*(t.stems for t in self.src_toks if t.content))

    @cached_property
    def tgt_bag(self) -> frozenset[str]:
        return frozenset().union(*(t.stems for t in self.tgt_toks if t.content))

    def src_content(self) -> list[int]:
        return [i for i, t in enumerate(self.src_toks) if t.content]

    def tgt_content(self) -> list[int]:
        return [j for j, t in enumerate(self.tgt_toks) if t.content]

    @cached_property
    def links(self) -> list[tuple[int, int]]:
        """Dictionary links (src token, tgt token) inside the bead."""
        by_stem: dict[str, list[int]] = {}
        for j, t in enumerate(self.tgt_toks):
            if t.content:
                for s in t.stems:
                    by_stem.setdefault(s, []).append(j)
        out = []
        for i, t in enumerate(self.src_toks):
            if t.content:
                js: set[int] = set()
                for s in t.stems:
                    js.update(by_stem.get(s, ()))
                out.extend((i, j) for j in sorted(js))
        # compounds written as one English word: 生物+多样性 ~ "biodiversity"
        linked = {j for _, j in out}
        for j, t in enumerate(self.tgt_toks):
            if t.content and j not in linked:
                for i, st in enumerate(self.src_toks):
                    if st.content and any(len(s) >= 5 and any(s in e for e in t.stems) for s in st.stems):
                        out.append((i, j))
        return sorted(out)

    @cached_property
    def support(self) -> list[tuple[int, int]]:
        """Dictionary links plus the stemmer's near misses (:func:`align.audit.links.support_links`)."""
        from align.audit.links import near_miss_links

        return near_miss_links(self)

    @cached_property
    def local(self):
        """Links kept clause by clause (:class:`align.audit.links.LocalLinks`)."""
        from align.audit.links import bead_local_links

        return bead_local_links(self)

    @cached_property
    def src_linked(self) -> set[int]:
        return {i for i, _ in self.links}

    @cached_property
    def tgt_linked(self) -> set[int]:
        return {j for _, j in self.links}


class AuditContext:
    """Per-pair evidence computed once and shared by all checks."""

    def __init__(self, pair: PairResult, encoder=None, lexicon: Lexicon | None = None) -> None:
        self.pair = pair
        self.encoder = encoder
        self.lex = lexicon or load_lexicon()
        self.src_lang = pair.alignment.src_lang or pair.src.lang
        self.tgt_lang = pair.alignment.tgt_lang or pair.tgt.lang
        if not self.src_lang.lower().startswith("zh"):
            from align.model import AlignError

            raise AlignError(f"{pair.stem}: the audit needs Chinese as the source side, got {self.src_lang!r}")
        self._vec_memo: dict[str, np.ndarray] = {}
        self._fine: dict[int, BeadView] = {}
        self.memo: dict[str, object] = {}  # document-wide evidence a check computes once (habits)
        self._para_text = self._paragraph_texts(pair.src_segments)
        self.beads = [self._view(k) for k in range(len(pair.alignment.beads))]

    # ----------------------------------------------------------------- build
    @staticmethod
    def _paragraph_texts(segs: Sequence[Segment]) -> dict[int, str]:
        out: dict[int, list[str]] = {}
        for s in segs:
            out.setdefault(s.paragraph, []).append(s.text)
        return {p: "".join(v) for p, v in out.items()}

    def _view(self, k: int) -> BeadView:
        from align.segment import word_spans

        bead = self.pair.alignment.beads[k]
        src_segs = tuple(self.pair.src_segments[i] for i in bead.src)
        tgt_segs = tuple(self.pair.tgt_segments[j] for j in bead.tgt)
        window = "".join(s.text for s in src_segs) + "".join(
            self._para_text.get(p, "") for p in {s.paragraph for s in src_segs})
        src_toks: list[Tok] = []
        src_nums: list[NumberMention] = []
        for seg in src_segs:
            for s, e in self._merge_names(seg.text, word_spans(seg.text, self.src_lang)):
                w = seg.text[s:e]
                content = is_zh_content(w) and not is_numeric(w)
                stems = self.zh_stems(w, window) if content else frozenset()
                src_toks.append(Tok(seg.start + s, seg.start + e, w, stems, content,
                                    content and self._zh_name(w, window)))
            src_nums.extend(m.shifted(seg.start) for m in extract_quantities(seg.text, self.src_lang))
        tgt_toks: list[Tok] = []
        tgt_nums: list[NumberMention] = []
        for seg in tgt_segs:
            for s, e in word_spans(seg.text, self.tgt_lang):
                w = seg.text[s:e]
                stems = frozenset() if is_numeric(w) else frozenset(en_stems(w))
                tgt_toks.append(Tok(seg.start + s, seg.start + e, w, stems, bool(stems),
                                    bool(stems) and w[:1].isupper()))
            tgt_nums.extend(m.shifted(seg.start) for m in extract_quantities(seg.text, self.tgt_lang))
        src_nums = [_word_numeral(m, src_toks) for m in src_nums]
        return BeadView(
            index=k, src_segs=src_segs, tgt_segs=tgt_segs, src_toks=src_toks, tgt_toks=tgt_toks,
            src_nums=src_nums, tgt_nums=tgt_nums,
            src_clauses=_clauses(src_segs, src_toks, _ZH_CLAUSE_BREAK),
            tgt_clauses=_clauses(tgt_segs, tgt_toks, _EN_CLAUSE_BREAK),
        )

    def fine(self, k: int) -> BeadView:
        """Bead k with Chinese compounds the dictionary does not know cut into the
        dictionary words they are made of (普惠共赢 -> 普惠 + 共赢, 中俄 -> 中 + 俄),
        so that a rendering of one half does not hide the loss of the other."""
        got = self._fine.get(k)
        if got is not None:
            return got
        b = self.beads[k]
        window = "".join(s.text for s in b.src_segs) + "".join(
            self._para_text.get(p, "") for p in {s.paragraph for s in b.src_segs})
        doc = self.pair.src.text  # an abbreviation inside a compound (中俄) is read against the document
        toks: list[Tok] = []
        changed = False
        for t in b.src_toks:
            parts = self.compound_parts(t, window, doc)
            if not parts:
                toks.append(t)
                continue
            changed = True
            pos = t.start
            for p in parts:
                w = doc if len(p) == 1 else window
                stems = self.zh_stems(p, w)
                toks.append(Tok(pos, pos + len(p), p, stems, bool(stems) and is_zh_content(p),
                                self._zh_name(p, w)))
                pos += len(p)
        if not changed:
            self._fine[k] = b
            return b
        fb = BeadView(index=k, src_segs=b.src_segs, tgt_segs=b.tgt_segs, src_toks=toks, tgt_toks=b.tgt_toks,
                      src_nums=b.src_nums, tgt_nums=b.tgt_nums,
                      src_clauses=_clauses(b.src_segs, toks, _ZH_CLAUSE_BREAK), tgt_clauses=b.tgt_clauses)
        self._fine[k] = fb
        return fb

    def compound_parts(self, t: Tok, window: str, doc: str = "") -> list[str] | None:
        """The dictionary words an unknown Chinese compound is made of, or None.

        Single characters left between dictionary words stay together as one
        part (普惠共赢 -> 普惠 + 共赢); a single character is a part of its own
        only as an abbreviation read in context (中俄 -> 中 + 俄).
        """
        w = t.text
        if not t.content or len(w) < 2 or w in self.lex or not all(_CJK.match(c) for c in w):
            return None
        parts: list[str] = []
        for p in self.lex.split(w):
            single = len(p) == 1 and not any((x in window or x in doc) and x != p for x in self.lex.expansions(p))
            if single and parts and parts[-1].startswith("\0"):
                parts[-1] += p
            else:
                parts.append("\0" + p if single else p)
        parts = [p.lstrip("\0") for p in parts]
        if len(parts) < 2 or any(len(p) == 1 and p in ZH_STOPWORDS for p in parts):
            return None
        return parts

    def _merge_names(self, text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Re-join names jieba cut apart (梅德韦 + 杰夫 -> 梅德韦杰夫) when CEDICT knows them."""
        out: list[tuple[int, int]] = []
        k = 0
        while k < len(spans):
            best = k
            for m in range(k + 1, min(k + 4, len(spans))):
                if spans[m][0] != spans[m - 1][1]:
                    break
                if self.lex.is_name(text[spans[k][0]:spans[m][1]]):
                    best = m
            out.append((spans[k][0], spans[best][1]))
            k = best + 1
        return out

    def _zh_name(self, w: str, window: str) -> bool:
        """A name: only ever a name in CEDICT, an abbreviation whose full form is
        nearby (叙 beside 叙利亚), or an unknown compound built on either (叙人)."""
        if self.lex.is_name(w):
            return True
        if w in self.lex and not self.lex.expansions(w):
            return False
        parts = [w] if w in self.lex else self.lex.split(w)
        return any((len(p) > 1 and self.lex.is_name(p))
                   or any(x in window and x != p for x in self.lex.expansions(p)) for p in parts)

    def zh_stems(self, word: str, window: str) -> frozenset[str]:
        """Stems of a Chinese token, reading abbreviations in context.

        A one-character abbreviation whose full form occurs nearby means that
        full form: 伊 next to 伊朗 is Iran (not Iraq), 叙 next to 叙利亚 is
        Syria (not "narrate").
        """
        lex = self.lex
        if not _CJK.search(word) or (word in lex and not lex.expansions(word)):
            return lex.en_words(word)
        parts = [word] if word in lex else lex.split(word)
        out: set[str] = set()
        for p in parts:
            full = [x for x in lex.expansions(p) if x in window and x != p]
            if full:
                for x in full:
                    out |= lex.en_words(x)
            else:
                out |= lex.en_words(p)
        return frozenset(out)

    # ------------------------------------------------------------ embeddings
    def vectors(self, texts: Sequence[str]) -> np.ndarray | None:
        """L2-normalised embeddings (memoised), or None when no encoder is set."""
        if self.encoder is None:
            return None
        missing = [t for t in dict.fromkeys(texts) if t not in self._vec_memo]
        if missing:
            vecs = np.asarray(self.encoder.encode(missing), dtype=np.float32)
            for t, v in zip(missing, vecs):
                self._vec_memo[t] = v
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([self._vec_memo[t] for t in texts])

    def prefetch(self, texts: Sequence[str]) -> None:
        """Embed many texts in one call (checks call this before scoring)."""
        if self.encoder is not None:
            self.vectors(list(texts))

    # ------------------------------------------------------------- findings
    def src_text(self, span: Span) -> str:
        return self.pair.src.text[span[0]:span[1]]

    def tgt_text(self, span: Span) -> str:
        return self.pair.tgt.text[span[0]:span[1]]

    def finding(self, kind: str, severity: str, bead: int, src_spans: Sequence[Span],
                tgt_spans: Sequence[Span], score: float, message: str, **extra) -> Finding:
        src_spans = tuple(_merge(src_spans))
        tgt_spans = tuple(_merge(tgt_spans))
        return Finding(
            kind=kind, mqm=MQM[kind], severity=severity, bead=bead,
            src_spans=src_spans, tgt_spans=tgt_spans,
            src_text=" … ".join(self.src_text(s) for s in src_spans if s[1] > s[0]),
            tgt_text=" … ".join(self.tgt_text(s) for s in tgt_spans if s[1] > s[0]),
            score=float(round(score, 4)), message=message, extra=dict(extra),
        )


def _merge(spans: Sequence[Span]) -> list[Span]:
    out: list[list[int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1] and e > s:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _clauses(segs: Sequence[Segment], toks: list[Tok], breaks: re.Pattern) -> list[Clause]:
    """Split each segment at clause punctuation; keep clauses with tokens."""
    out: list[Clause] = []
    ti = 0
    for seg in segs:
        cuts = [seg.start] + [seg.start + m.start() for m in breaks.finditer(seg.text)] + [seg.end]
        ends = [seg.start + m.end() for m in breaks.finditer(seg.text)]
        starts = [seg.start] + ends
        for a, b in zip(starts, cuts[1:]):
            idx = []
            while ti < len(toks) and toks[ti].start < b:
                if toks[ti].start >= a:
                    idx.append(ti)
                ti += 1
            if idx:
                out.append(Clause(toks[idx[0]].start, toks[idx[-1]].end, tuple(idx)))
    return out


class Check:
    """One audit check: reads the context, returns findings."""

    name: ClassVar[str] = "check"
    kinds: ClassVar[tuple[str, ...]] = ()

    def run(self, ctx: AuditContext) -> list[Finding]:  # pragma: no cover - interface
        raise NotImplementedError


_NUMERIC = re.compile(r"^(?:[\d\uff10-\uff19.,]+(?:st|nd|rd|th|s)?|第?[〇零一二三四五六七八九十百千万亿两]+[年月日号届次]?)$", re.I)


_ZH_NUMBER_WORD_CHARS = set("〇零○一二三四五六七八九十百千万亿两第多余几来")
_ZH_UNITS_LONGEST = sorted(_ZH_UNITS, key=len, reverse=True)


def _word_numeral(m: NumberMention, toks: Sequence[Tok]) -> NumberMention:
    """A numeral inside a word is not a number: 茅十八 (a name), 秋千架 (a swing),
    十万八千里 (an idiom, "a long way"). Such mentions become weak."""
    if m.weak:
        return m
    for t in toks:
        if t.start < m.end and m.start < t.end and (t.start < m.start or t.end > m.end):
            pre = t.text[:max(0, m.start - t.start)]
            post = t.text[max(0, m.end - t.start):]
            unit = next((u for u in _ZH_UNITS_LONGEST if post.startswith(u)), "")
            post = post[len(unit):]
            if any(_CJK.match(c) and c not in _ZH_NUMBER_WORD_CHARS for c in pre + post):
                return NumberMention(m.start, m.end, m.value, m.kind, m.text, True, m.unit, m.parts)
    return m


def is_numeric(token: str) -> bool:
    """Numbers are compared by the number check, not as words."""
    return bool(_NUMERIC.match(token))


def is_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


__all__ = ["AuditContext", "BeadView", "Check", "Clause", "MQM", "SEVERITY_RANK", "Tok"]
