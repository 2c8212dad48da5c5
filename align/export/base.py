"""What every export format shares: options, the bead-text contract, warnings.

Formats are classes with a ``render`` that turns a ``PairResult`` into bytes;
they never touch the file system (``align.export.write_outputs`` does), so a
failure while rendering one format cannot leave a half-written file.

Warnings: a format that has to change the data to stay valid (TMX drops the
characters XML 1.0 forbids, CSV replaces unencodable lone surrogates)
reports it through ``Exporter.warnings(pair, options)``, a pure function the
caller runs next to ``render``. Keeping warnings out of ``render`` keeps its
result plain bytes and its options free of output state.
"""

from __future__ import annotations

import functools
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from align.model import AlignError, Bead, Document, PairResult, Segment

# Languages written without spaces between sentences.
NO_SPACE_LANGS = frozenset({"zh", "ja"})

_DEFAULT_LOCALES = {"zh": "zh-CN", "en": "en", "de": "de", "fr": "fr"}


def base_lang(lang: str) -> str:
    """'zh-CN' / 'zh_Hans' -> 'zh'."""
    return re.split(r"[-_]", lang.strip(), maxsplit=1)[0].lower()


def default_locale(lang: str) -> str:
    """The xml:lang TMX tools expect for a bare language code."""
    return _DEFAULT_LOCALES.get(base_lang(lang), lang)


def joiner(lang: str) -> str:
    return "" if base_lang(lang) in NO_SPACE_LANGS else " "


def join_texts(texts: Sequence[str], lang: str) -> str:
    """The text of a many-segment bead: no space for zh/ja, one space else."""
    return joiner(lang).join(texts)


@functools.lru_cache(maxsize=1)
def tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("align")
    except PackageNotFoundError:
        return "0.0.0"


@dataclass(frozen=True)
class ExportOptions:
    """Settings shared by all formats; ``None`` locales follow the languages."""

    src_locale: str | None = None
    tgt_locale: str | None = None
    creationtool: str = "align"
    creationtoolversion: str = field(default_factory=tool_version)

    def locales(self, pair: PairResult) -> tuple[str, str]:
        return (
            self.src_locale or default_locale(pair.alignment.src_lang),
            self.tgt_locale or default_locale(pair.alignment.tgt_lang),
        )


def side_keys(pair: PairResult) -> tuple[str, str]:
    """JSON/CSV column names for the two sides: the language codes.

    Same-language pairs (en-en revision checks) would make both keys equal,
    so they fall back to 'src'/'tgt'.
    """
    src, tgt = pair.alignment.src_lang, pair.alignment.tgt_lang
    return (src, tgt) if src != tgt else ("src", "tgt")


def round_score(score: float) -> float | None:
    """4 decimals; NaN/inf (not valid JSON) become None."""
    value = float(score)
    return round(value, 4) if math.isfinite(value) else None


def bead_segments(pair: PairResult, bead: Bead) -> tuple[list[Segment], list[Segment]]:
    try:
        return (
            [pair.src_segments[i] for i in bead.src],
            [pair.tgt_segments[j] for j in bead.tgt],
        )
    except IndexError:
        raise AlignError(
            f"{pair.stem}: bead {bead.src}:{bead.tgt} refers to a segment that does not exist "
            f"({len(pair.src_segments)} source, {len(pair.tgt_segments)} target segments)"
        ) from None


def iter_beads(pair: PairResult) -> Iterator[tuple[int, Bead, list[Segment], list[Segment]]]:
    """(bead number, bead, source segments, target segments) in file order."""
    for n, bead in enumerate(pair.alignment.beads):
        src, tgt = bead_segments(pair, bead)
        yield n, bead, src, tgt


def locate(doc: Document, offset: int) -> str:
    """'path:line:col' (1-based) for a warning about ``doc.text[offset]``."""
    text = doc.text
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"{doc.path or doc.lang}:{line}:{col}"


def describe_removed(
    doc: Document, segment: Segment, positions: Sequence[int], what: str, limit: int = 5
) -> str:
    """One warning line for characters changed in one segment.

    ``positions`` are indices into ``segment.text``; they are reported as
    document positions, which is where a user can fix them.
    """
    shown = [
        f"{locate(doc, segment.start + p)} (U+{ord(segment.text[p]):04X})" for p in positions[:limit]
    ]
    more = f" and {len(positions) - limit} more" if len(positions) > limit else ""
    return f"{what} in segment {segment.index}: " + ", ".join(shown) + more


class Exporter(ABC):
    """One output format. Subclasses set ``name`` and ``suffix``."""

    name: str = ""
    suffix: str = ""

    @abstractmethod
    def render(self, pair: PairResult, options: ExportOptions) -> bytes:
        """The complete file content."""

    def warnings(self, pair: PairResult, options: ExportOptions) -> list[str]:
        """Ways ``render`` had to change the data; empty for lossless formats."""
        return []

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.suffix}>"
