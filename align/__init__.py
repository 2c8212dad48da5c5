"""align: Chinese–English parallel-text alignment and translation audit.

The public API, stage by stage::

    from align import read_document, segment, get_encoder, align_files
    pair, written = align_files("texts/zh/a.txt", "texts/en/a.txt", "outputs")

Heavy modules (the encoder, jieba, the dictionary) load on first use only.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "AlignError": "align.model",
    "Document": "align.model",
    "Segment": "align.model",
    "Bead": "align.model",
    "Alignment": "align.model",
    "Finding": "align.model",
    "PairResult": "align.model",
    "read_document": "align.read",
    "segment": "align.segment",
    "segment_lines": "align.segment",
    "get_encoder": "align.embed",
    "AlignConfig": "align.aligner",
    "align_documents": "align.pipeline",
    "align_files": "align.pipeline",
    "RunOptions": "align.pipeline",
    "audit": "align.audit",
    "write_outputs": "align.export",
    "score_paths": "align.evaluate",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'align' has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
