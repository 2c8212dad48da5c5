"""Word-by-word English glosses of Chinese sentences, from CC-CEDICT.

A second, partly independent view of a Chinese sentence for the aligner: the
encoder reads the English gloss ("he yesterday go Beijing") as well as the
Chinese, and the gloss's similarity to an English run errs differently from
the Chinese sentence's (rare words, names and numbers survive glossing; the
encoder's weak Chinese does not matter). Each word takes the first sense of
its dictionary entry, the entry of the headword's main reading; a word the
dictionary lacks is glossed by its dictionary sub-words.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path

GLOSS_VERSION = 3
MAX_WORDS = 3  # of one sense: "to take part in" says it; the rest of a long sense is noise

_PAREN = re.compile(r"\([^()]*\)")
_BRACKET = re.compile(r"\[[^\]]*\]")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NOT_SENSE = ("surname ", "variant of", "old variant", "used in ", "see ", "see also", "cl:", "erhua variant",
              "japanese variant", "archaic variant", "unofficial variant", "also written", "abbr. for", "short for",
              "taiwan pr", "also pr", "kangxi radical", "radical ")
_FILLER = frozenset({"sb", "sth", "sb's", "sth's", "oneself", "one's", "etc"})


def _clean_sense(sense: str) -> str:
    """A sense as a few plain English words: no notes in brackets, no 'sb'/'sth'."""
    text = _PAREN.sub(" ", _PAREN.sub(" ", sense))
    text = _BRACKET.sub(" ", text)
    words = [w for w in re.split(r"[\s/|,]+", _CJK.sub(" ", text)) if w and w.lower() not in _FILLER]
    return " ".join(words[:MAX_WORDS])


def _first_sense(defs: str) -> str:
    for big in defs.split("/"):
        for sense in big.split(";"):
            s = sense.strip()
            if s and not s.lower().startswith(_NOT_SENSE):
                got = _clean_sense(s)
                if got:
                    return got
    return ""


def parse_glosses(path: Path) -> dict[str, tuple[str, str, bool]]:
    """Headword (simplified and traditional) -> (gloss, toneless pinyin, is a surname) of its main reading.

    The main reading is the entry with the most senses (了 le5 over liao3, 看
    kan4 over kan1), common words before names of the same spelling; words
    whose senses are all grammatical notes (了 le5) get an empty gloss.
    """
    from .lexicon import cedict_entries

    best: dict[str, tuple[tuple[int, int], str, str]] = {}
    surnames: set[str] = set()
    for trad, simp, pinyin, defs in cedict_entries(path):
        if len(simp) == 1 and any(d.lower().startswith("surname ") for d in defs.split("/")):
            surnames.update({trad, simp})
        senses = [d for d in defs.split("/") if d and not d.lower().startswith(_NOT_SENSE)]
        if not senses:
            continue
        rank = (int(not pinyin[:1].isupper()), len(senses))
        gloss = _first_sense(defs)
        reading = re.sub(r"[1-5]", "", pinyin).replace("u:", "u").replace(" ", "").lower()
        for head in {trad, simp}:
            old = best.get(head)
            if old is None or rank > old[0]:
                best[head] = (rank, gloss, reading if reading.isalpha() else "")
    return {k: (g, r, k in surnames) for k, (_, g, r) in best.items()}


@functools.lru_cache(maxsize=1)
def gloss_table() -> dict[str, tuple[str, str, bool]]:
    from .lexicon import cached_parse, cedict_path

    return cached_parse(cedict_path(), "gloss", GLOSS_VERSION, parse_glosses)


class Glosser:
    """Glosses sentences, memoising each token: books repeat their words."""

    def __init__(self, table: dict[str, tuple[str, str, bool]] | None = None) -> None:
        self.table = gloss_table() if table is None else table
        self.max_len = max(map(len, self.table), default=1)
        self._memo: dict[str, str] = {}

    def word(self, token: str) -> str:
        got = self._memo.get(token)
        if got is None:
            got = self._memo[token] = self._word(token)
        return got

    def _word(self, token: str) -> str:
        if not _CJK.search(token):
            return token
        if token in self.table:
            return self.table[token][0]
        parts, i = [], 0
        while i < len(token):  # forward maximal matching into dictionary words
            for j in range(min(len(token), i + self.max_len), i, -1):
                if token[i:j] in self.table or j == i + 1:
                    parts.append(token[i:j])
                    i = j
                    break
        entries = [self.table.get(p, ("", "", False)) for p in parts]
        if 2 <= len(token) <= 3 and all(len(p) == 1 for p in parts) and entries[0][2] and all(e[0] for e in entries):
            # a word jieba found that the dictionary lacks, a surname and one or two
            # content characters: a name, which English writes in pinyin (吴佩珍 -> Wu Peizhen)
            sounds = [e[1] for e in entries]
            if all(sounds):
                given = "".join(sounds[1:])
                return sounds[0].capitalize() + (" " + given.capitalize() if given else "")
        return " ".join(e[0] for e in entries if e[0])

    def tokens(self, tokens: Sequence[str]) -> str:
        """The gloss of a tokenised sentence."""
        return " ".join(g for g in map(self.word, tokens) if g)

    def sentence(self, text: str) -> str:
        from .segment import word_spans

        return self.tokens([text[s:e] for s, e in word_spans(text, "zh")])


def glosses(texts: Sequence[str]) -> list[str]:
    """The English gloss of each Chinese text (empty when nothing could be glossed)."""
    g = Glosser()
    return [g.sentence(t) for t in texts]
