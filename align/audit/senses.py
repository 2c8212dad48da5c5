"""CC-CEDICT senses as written, for the checks that reason about meanings.

:mod:`align.lexicon` reduces every headword to one bag of English stems,
which is what linking needs. Judging whether an idiom was rendered needs its
*senses* one by one (守望相助: "to keep watch and defend one another" /
"mutual help and protection") and their wording for the message. Parsed once
from the same data file and cached as a pickle under ``~/.cache/align/``
(keyed by the file's size and mtime), like the lexicon.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from align.lexicon import cached_parse, cedict_entries, cedict_path, en_stems

CACHE_VERSION = 1
_PAREN = re.compile(r"\([^()]*\)")
_NOT_A_SENSE = re.compile(r"^(?:variant of|old variant|archaic variant|japanese variant|erhua variant|see |see also|"
                          r"also written|also pr|abbr\.|short for|cl:|surname |used in |taiwan pr)", re.I)


def parse_senses(path: Path) -> dict[str, tuple[str, ...]]:
    """Simplified headword -> its senses (split at / and ;), references dropped."""
    out: dict[str, list[str]] = {}
    for _trad, simp, _pinyin, defs in cedict_entries(path):
        senses = out.setdefault(simp, [])
        for big in defs.split("/"):
            for sense in big.split(";"):
                sense = sense.strip()
                if sense and not _NOT_A_SENSE.match(sense) and sense not in senses:
                    senses.append(sense)
    return {k: tuple(v) for k, v in out.items() if v}


@functools.lru_cache(maxsize=1)
def load_senses() -> dict[str, tuple[str, ...]]:
    """The shared read-only sense table (parsed once, then read from the cache)."""
    return cached_parse(cedict_path(), "cedict-senses", CACHE_VERSION, parse_senses)


def sense_stems(sense: str) -> frozenset[str]:
    """Content stems of one sense, without its bracketed notes ("(idiom, from Mencius)")."""
    text = sense
    for _ in range(2):
        text = _PAREN.sub(" ", text)
    return frozenset(s for tok in text.split() for s in en_stems(tok) if not s[0].isdigit())


def plain(sense: str) -> str:
    """A sense without its bracketed notes, for messages and embeddings."""
    text = sense
    for _ in range(2):
        text = _PAREN.sub(" ", text)
    return " ".join(text.split()).strip(" ,")
