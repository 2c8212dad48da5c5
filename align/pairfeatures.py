"""Evidence beyond embeddings for a candidate sentence pair.

Two signals the encoder is weak at: dictionary translations (CC-CEDICT for
Chinese–English; shared word forms such as names for other pairs) and
numbers, which must agree across a translation. Each sentence is reduced to
a set once, so scoring a pair is a set intersection.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

_LATIN_WORD = re.compile(r"[^\W\d_]{4,}", re.UNICODE)


def _number_sets(texts: Sequence[str], lang: str) -> list[frozenset[float]]:
    from .numbers import extract_numbers

    out = []
    for t in texts:
        vals: set[float] = set()
        for m in extract_numbers(t, lang):
            if not m.weak:
                vals.update(float(a) for a in m.atoms())
        out.append(frozenset(vals))
    return out


def _zh_en_bags(texts: Sequence[str], lang: str) -> list[frozenset[str]]:
    """English stems each sentence can express (zh) or contains (en)."""
    from .lexicon import load_lexicon
    from .segment import word_spans

    lex = load_lexicon()
    bags = []
    for t in texts:
        tokens = [t[s:e] for s, e in word_spans(t, lang)]
        bags.append(lex.zh_bag(tokens) if lang == "zh" else lex.en_bag(tokens))
    return bags


def _form_bags(texts: Sequence[str]) -> list[frozenset[str]]:
    """Word prefixes: cognates and names are spelled alike in related languages."""
    return [frozenset(w.lower()[:5] for w in _LATIN_WORD.findall(t)) for t in texts]


def pair_scorer(src_texts: Sequence[str], tgt_texts: Sequence[str], src_lang: str, tgt_lang: str) -> Callable[[int, np.ndarray], np.ndarray]:
    """A row function for the aligner: (source i, target js) -> (len(js), 2).

    Column 0 is the share of the target sentence's words explained by the
    source sentence, column 1 the number of non-trivial numbers they share.
    """
    langs = {src_lang, tgt_lang}
    if langs == {"zh", "en"}:
        src_bags = _zh_en_bags(src_texts, src_lang)
        tgt_bags = _zh_en_bags(tgt_texts, tgt_lang)
        # coverage is measured on the English side, whatever the direction
        en_is_tgt = tgt_lang == "en"
    else:
        src_bags = _form_bags(src_texts)
        tgt_bags = _form_bags(tgt_texts)
        en_is_tgt = True
    src_nums = _number_sets(src_texts, src_lang)
    tgt_nums = _number_sets(tgt_texts, tgt_lang)

    def row(i: int, js: np.ndarray) -> np.ndarray:
        out = np.zeros((len(js), 2), dtype=np.float32)
        sb, sn = src_bags[i], src_nums[i]
        for k, j in enumerate(js):
            tb = tgt_bags[j]
            en_bag = tb if en_is_tgt else sb
            if en_bag:
                out[k, 0] = len(sb & tb) / (len(en_bag) + 2.0)
            if sn:
                out[k, 1] = len(sn & tgt_nums[j])
        return out

    return row
