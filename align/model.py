"""Plain dataclasses that carry data from one stage to the next.

Data flows one way: Document -> Segment list -> embeddings (numpy) ->
Alignment (Bead list) -> Finding list -> exports. Every stage takes these and
returns these, so a stage can be replaced or tested without the others.
Offsets are always Python string indices into ``Document.text`` (the decoded
input file), which is what JSONL consumers index into.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Span = tuple[int, int]


class AlignError(Exception):
    """An error a user can fix; the CLI prints it as one line, no traceback."""


@dataclass(frozen=True)
class Document:
    """A decoded input text. ``text`` is exactly what offsets refer to."""

    text: str
    lang: str
    path: str | None = None
    encoding: str = "utf-8"
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Segment:
    """One sentence-like unit of a document.

    ``kind`` is one of: sentence, heading, item, signature.
    ``section`` is the heading the segment falls under (e.g. 政治合作),
    ``part`` the numbered part (e.g. 三 / Three) and ``clause`` the label of
    the enumerated item it belongs to as written (e.g. （十六） / (16)), with
    ``number`` its value as an int so that both languages can be matched.
    """

    index: int
    start: int
    end: int
    text: str
    paragraph: int
    kind: str = "sentence"
    section: str | None = None
    part: str | None = None
    clause: str | None = None
    number: int | None = None


@dataclass(frozen=True)
class Bead:
    """An alignment unit: 0..n source segments matched with 0..m target ones.

    ``score`` is a confidence in [0, 1] that the bead is right.
    """

    src: tuple[int, ...]
    tgt: tuple[int, ...]
    score: float
    flags: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return f"{len(self.src)}-{len(self.tgt)}"


@dataclass(frozen=True)
class Alignment:
    """The beads for one document pair, in order, covering every segment once."""

    beads: tuple[Bead, ...]
    src_lang: str
    tgt_lang: str


@dataclass(frozen=True)
class Finding:
    """One audit finding with evidence spans into both input texts."""

    kind: str
    mqm: str
    severity: str
    bead: int
    src_spans: tuple[Span, ...]
    tgt_spans: tuple[Span, ...]
    src_text: str
    tgt_text: str
    score: float
    message: str
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PairResult:
    """Everything one aligned document pair produced; what exporters read."""

    stem: str
    src: Document
    tgt: Document
    src_segments: tuple[Segment, ...]
    tgt_segments: tuple[Segment, ...]
    alignment: Alignment
    findings: tuple[Finding, ...] = ()
