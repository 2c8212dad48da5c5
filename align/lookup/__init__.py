"""Look up a clause in both languages: an SQLite/FTS5 index over aligned beads.

``build_index`` reads bead JSONL files (with their ``.audit.jsonl``) and TMX
translation memories into one index file; ``search`` finds beads by words,
substring, regex, meaning (cross-lingual embeddings) or by clause and section
labels; ``format_hits`` / ``hits_to_json`` present the results.
"""

from __future__ import annotations

from align.lookup.format import format_hits, hit_record, hits_to_json
from align.lookup.search import MODES, ContextBead, Hit, search
from align.lookup.store import DEFAULT_DB, SCHEMA_VERSION, IndexStats, build_index, check_fts5
from align.lookup.text import clause_number

__all__ = [
    "DEFAULT_DB",
    "MODES",
    "SCHEMA_VERSION",
    "ContextBead",
    "Hit",
    "IndexStats",
    "build_index",
    "check_fts5",
    "clause_number",
    "format_hits",
    "hit_record",
    "hits_to_json",
    "search",
]
