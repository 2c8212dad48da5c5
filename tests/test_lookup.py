"""align.lookup on real Joint Statement beads: word, exact, regex, semantic and
clause lookups, TMX input, and every kind of bad input the issue lists.

The beads are built here from paragraphs of texts/zh and texts/en that were
checked by hand to be translations of each other; expected results are
computed from those texts, not typed in.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from align.lookup import SCHEMA_VERSION, build_index, clause_number, format_hits, hits_to_json, search
from align.lookup import store as store_mod
from align.lookup import vectors as vectors_mod
from align.lookup.postings import Postings, PostingsBuilder, TermIds, batch_pairs, decode, reference_terms
from align.lookup.text import (
    CHECK_TOKEN,
    cjk_word_tokens,
    exact_regex,
    fold,
    index_text_reference,
    index_texts,
    needs_check,
    query_script,
    term_regex,
    word_terms,
)
from align.model import AlignError

ROOT = Path(__file__).resolve().parents[1]
ZH_PATH = ROOT / "texts" / "zh" / "joint-statement.txt"
EN_PATH = ROOT / "texts" / "en" / "joint-statement.txt"
JS_BEADS = ROOT / "outputs" / "joint-statement.jsonl"  # `align run` on the texts above, with its audit file

# (zh paragraph starts, en paragraph starts, zh section, en section, zh clause, en clause)
# A side with two starts is two paragraphs of that language forming one bead.
PAIRS = [
    (["务实合作\n"], ["Practical cooperation\n"], "务实合作", "Practical cooperation", None, None),
    (["(十五) 扩大中俄地方交流"], ["(15) Expanding local exchanges"], "务实合作", "Practical cooperation", "(十五)", "(15)"),
    (["(十六) 积极推进“一带一路”建设与欧亚经济联盟对接"], ['(16) Actively promote the construction of the "Belt and Road"'], "务实合作", "Practical cooperation", "(十六)", "(16)"),
    (["确保 2018 年 5 月 17 日签署"], ["Ensuring that the Agreement on Economic and Trade Cooperation"], "务实合作", "Practical cooperation", "(十六)", "(16)"),
    (["双方高度评价 2019 年 4 月 25 日"], ['The two sides spoke highly of the second "Belt and Road"'], "务实合作", "Practical cooperation", "(十六)", "(16)"),
    (["(十七) 继续深化双边领事合作"], ["(17) Continue to deepen bilateral consular cooperation"], "务实合作", "Practical cooperation", "(十七)", "(17)"),
    (["俄方支持“一带一路”倡议"], ['The Russian side supports the "One Belt, One Road" initiative'], None, None, None, None),
    (["（九）推动两国林业和自然保护部门合作"], ["(9) Promote cooperation between the forestry", "and Leopard on the Sino-Russian border."], "人文交流", "Cultural exchanges", "（九）", "(9)"),
    (["(十六) 坚持构建开放型亚太经济的大方向"], ["(16) Adhere to the general direction of building an open Asia-Pacific economy"], "国际协作", "International collaboration", "(十六)", "(16)"),
]
PANDA, EEU_16, EEU_AGREEMENT = 7, 2, 3


def _paragraph(text: str, start: str) -> tuple[int, int]:
    s = text.index(start)
    assert text.count(start) == 1, f"paragraph start not unique: {start!r}"
    e = text.find("\n", s + len(start.rstrip("\n")))
    return s, (len(text) if e < 0 else e)


def _side(text: str, starts: list[str], joiner: str) -> tuple[str, list[list[int]]]:
    spans = [list(_paragraph(text, st)) for st in starts]
    return joiner.join(text[s:e] for s, e in spans), spans


def bead_records() -> list[dict]:
    zh_text = ZH_PATH.read_text(encoding="utf-8")
    en_text = EN_PATH.read_text(encoding="utf-8")
    records = []
    for n, (zs, es, zsec, esec, zcl, ecl) in enumerate(PAIRS):
        zh, zh_spans = _side(zh_text, zs, "")
        en, en_spans = _side(en_text, es, " ")
        records.append(
            {
                "bead": n,
                "zh": zh,
                "en": en,
                "zh_spans": zh_spans,
                "en_spans": en_spans,
                "score": 0.9,
                "flags": [],
                "section": {"zh": zsec, "en": esec},
                "clause": {"zh": zcl, "en": ecl},
                "number": clause_number(zcl),
            }
        )
    return records


FINDING = {
    "finding": 0,
    "bead": EEU_16,
    "kind": "mistranslation",
    "severity": "major",
    "message": "欧亚经济联盟 rendered as 'European-European Economic Union'",
}


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


class HashEncoder:
    """Deterministic stand-in for a sentence encoder: character-trigram hashing.

    Identical texts get identical vectors, so a text looked up semantically
    must come back as the top hit: that checks the vector-row bookkeeping.
    """

    name = "hash-trigram-64"
    dim = 64

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for k in range(max(1, len(t) - 2)):
                h = int.from_bytes(hashlib.blake2b(t[k : k + 3].encode(), digest_size=4).digest(), "little")
                out[i, h % self.dim] += 1.0 if h & 1 << 31 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


# Vectors are stored as int16 steps of 1/QUANT: each component is off by at
# most half a step, so a unit vector's cosine with itself by at most
# sqrt(dim) half-steps (Cauchy-Schwarz).
SELF_SCORE_TOLERANCE = 0.5 / vectors_mod.QUANT * np.sqrt(HashEncoder.dim)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("lookup")
    records = bead_records()
    jsonl = write_jsonl(tmp / "joint-statement.jsonl", records)
    (tmp / "joint-statement.audit.jsonl").write_text(json.dumps(FINDING, ensure_ascii=False) + "\n", encoding="utf-8")
    db = tmp / "align.db"
    stats = build_index([jsonl], db, encoder=HashEncoder())
    return {"tmp": tmp, "db": db, "records": records, "jsonl": jsonl, "stats": stats}


def beads_of(hits) -> list[int]:
    return [h.bead for h in hits]


def matched_texts(hit) -> list[str]:
    return [hit.texts[hit.side][s:e] for s, e in hit.spans[hit.side]]


# ---------------------------------------------------------------- indexing text


def _real_and_mixed_texts(seed: int, alphabet: str, longest: int) -> list[str]:
    """The Joint Statement's lines in both languages plus 3,000 random strings over ``alphabet``."""
    texts = ZH_PATH.read_text(encoding="utf-8").split("\n") + EN_PATH.read_text(encoding="utf-8").split("\n")
    rnd = random.Random(seed)
    chars = list(alphabet)
    return texts + ["".join(rnd.choice(chars) for _ in range(rnd.randrange(longest))) for _ in range(3000)]


def test_vectorised_bigram_indexing_matches_its_plain_definition():
    """index_texts (numpy, batch) must give the tokens of index_text_reference
    (one regex per text) on the real texts and on random mixtures of CJK,
    kana, hangul, astral ideographs, full-width forms, spaces and a lone surrogate."""
    texts = _real_and_mixed_texts(3, "中文 熊猫\t\n ａＢ１　，。abcé\u3007々かカ한\U00020000x\ud800 ", 12)
    got = index_texts(texts)
    assert [g.split() for g in got] == [index_text_reference(t).split() for t in texts]
    assert index_texts(["发展 新时代", "熊猫"])[0].split() == ["发展", "展新", "新时", "时代", "代"]


def _terms_by_row(ids: TermIds, pairs: np.ndarray) -> dict[int, set[str]]:
    names = ids.texts(pairs >> np.uint64(32))
    out: dict[int, set[str]] = {}
    for rowid, name in zip((pairs & np.uint64(0xFFFFFFFF)).tolist(), names):
        out.setdefault(rowid, set()).add(name)
    return out


def test_cjk_postings_terms_match_their_plain_definition():
    """batch_pairs (numpy) gives each text the terms of reference_terms:
    characters, bigrams, the other words folded as queries and highlights
    fold them, and the check mark where a substring test cannot decide."""
    texts = _real_and_mixed_texts(5, "中文 熊猫\t\n ａＢ１　，。abcé\u3007々かカ한\U00020000x\ud800 ÉßİŒ_-'²㊀ㄱ\u00a0\U0001d400", 14)
    texts = [t for t in texts if t]
    ids = TermIds()
    got = _terms_by_row(ids, batch_pairs(ids, list(range(0, 2 * len(texts), 2)), texts))
    assert [got.get(2 * k, set()) for k in range(len(texts))] == [reference_terms(t) for t in texts]
    assert reference_terms("（2019年）ＡＰＥＣ峰会，Élan") == {"2019", "年", "apec", "峰", "会", "峰会", "elan"}
    # every term is what a query's word, character or bigram becomes, or the mark of
    # a text that has spacing inside a CJK run (or characters that fold into CJK)
    for k, t in enumerate(texts):
        terms = got.get(2 * k, set())
        assert (CHECK_TOKEN in terms) == needs_check(t), t
        assert all(re.fullmatch(r"[^\W_]+", term) for term in terms if term != CHECK_TOKEN), t
        # term ids and texts agree both ways
        assert all(ids.texts(np.array([ids.of(term)], dtype=np.uint64)) == [term] for term in terms), t
    assert needs_check("发展 新时代") and needs_check("⼤熊猫") and not needs_check("2019 年 4 月，“一带一路”")


def test_postings_merge_of_many_runs_and_ranges_gives_each_terms_rowids():
    """Tiny chunks and term ranges (many sorted runs, merged range by range)
    give every term exactly the ascending rowids of the texts holding it,
    through the encoding (1-, 2- and 4-byte gaps) and back."""
    zh = [line for line in ZH_PATH.read_text(encoding="utf-8").split("\n") if line.strip()]
    rnd = random.Random(4)
    rowids = sorted(rnd.sample(range(0, 3_000_000), len(zh)))  # gaps of every width
    truth: dict[str, list[int]] = {}
    for r, t in zip(rowids, zh):
        for term in reference_terms(t):
            truth.setdefault(term, []).append(r)
    builder = PostingsBuilder(chunk_pairs=500, range_pairs=300)
    for k in range(0, len(zh), 7):
        builder.add(rowids[k : k + 7], zh[k : k + 7])
    rows = [row for chunk in builder.rows() for row in chunk]
    assert sorted(term for term, _ in rows) == sorted(truth)
    assert {term: decode(blob).tolist() for term, blob in rows} == truth
    assert {blob[0] for _, blob in rows} == {1, 2, 4}
    with pytest.raises(ValueError):
        builder.add([rowids[0]], [zh[0]])  # rowids must keep ascending


# ---------------------------------------------------------------- building


def test_build_reports_what_it_indexed(corpus):
    stats = corpus["stats"]
    assert stats.documents == ("joint-statement",)
    assert stats.beads == stats.total_beads == len(PAIRS)
    assert stats.findings == 1
    assert stats.vectors == 2 * len(PAIRS)
    assert stats.encoder == HashEncoder.name
    con = sqlite3.connect(corpus["db"])
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    con.close()


# ---------------------------------------------------------------- word mode


def test_chinese_word_search_finds_eurasian_economic_union(corpus):
    hits = search(corpus["db"], "欧亚经济联盟")
    expected = [r["bead"] for r in corpus["records"] if "欧亚经济联盟" in r["zh"]]
    assert len(expected) == 3
    assert beads_of(hits) == expected
    for h in hits:
        assert h.side == 0 and h.langs == ("zh", "en")
        assert set(matched_texts(h)) == {"欧亚经济联盟"}
        assert h.spans[1] == ()  # the Chinese query is not looked for in the English


def test_english_word_search_finds_eurasian_economic_union(corpus):
    hits = search(corpus["db"], "eurasian ECONOMIC Union")
    words = ("eurasian", "economic", "union")
    expected = [r["bead"] for r in corpus["records"] if all(re.search(rf"\b{w}\b", r["en"], re.I) for w in words)]
    assert EEU_16 in expected and EEU_AGREEMENT in expected
    assert beads_of(hits) == expected
    h = hits[0]
    assert h.side == 1
    assert {t.lower() for t in matched_texts(h)} == set(words)
    # the Chinese side of the hit is the clause that says 欧亚经济联盟
    assert "欧亚经济联盟" in h.texts[0]


def test_word_match_is_whole_words_for_english_and_substring_for_chinese(corpus):
    assert search(corpus["db"], "panda") == []  # the text says "pandas"
    assert beads_of(search(corpus["db"], "pandas")) == [PANDA]
    # 熊猫 is inside the jieba word 大熊猫: bigram indexing still finds it
    hits = search(corpus["db"], "熊猫")
    assert beads_of(hits) == [PANDA]
    assert matched_texts(hits[0]) == ["熊猫", "熊猫"]
    # single character: the postings of that character
    one = search(corpus["db"], "豹")
    assert beads_of(one) == [r["bead"] for r in corpus["records"] if "豹" in r["zh"]]


def test_one_character_queries_find_every_text_holding_the_character(corpus):
    """A one-character query is its character's postings: every bead whose
    Chinese holds it, alone or with other words, whatever the limit."""
    recs = corpus["records"]
    for q, mode in [("豹", "word"), ("的", "word"), ("合", "exact"), ("日", "word"), ("熊", "exact"), ("年", "exact")]:
        truth = [r["bead"] for r in recs if q in r["zh"]]
        assert truth and beads_of(search(corpus["db"], q, mode=mode, limit=50)) == truth, q
        assert beads_of(search(corpus["db"], q, mode=mode, limit=2)) == truth[:2], q
    truth = [r["bead"] for r in recs if "峰会" in r["zh"] and "年" in r["zh"]]
    assert beads_of(search(corpus["db"], "峰会 年", limit=50)) == truth
    assert beads_of(search(corpus["db"], "2019年", mode="exact", limit=50)) == [
        r["bead"] for r in recs if exact_regex("2019年").search(fold(r["zh"]))]


# ---------------------------------------------------------------- exact and regex


def test_exact_mode_is_case_insensitive_substring(corpus):
    recs = corpus["records"]
    for q in ["European-European Economic Union", "conomic Un", "anda", "Eurasian", "(16)"]:
        hits = search(corpus["db"], q, mode="exact")
        expected = [r["bead"] for r in recs if q.lower() in r["en"].lower() or (q.isascii() and not q[0].isalpha() and q in r["zh"])]
        assert beads_of(hits) == expected, q
        for h in hits:
            assert all(t.lower() == q.lower() for t in matched_texts(h)), q
    # whole-word matches first, then matches inside longer words, each in document order
    on = beads_of(search(corpus["db"], "on", mode="exact", limit=50))
    whole = [r["bead"] for r in recs if re.search(r"\bon\b", r["en"], re.I)]
    inside = [r["bead"] for r in recs if r["bead"] not in whole and "on" in r["en"].lower()]
    assert whole and inside and on == whole + inside
    # spacing around CJK characters is not significant: the text has "2019 年 4 月 25 日"
    hits = search(corpus["db"], "2019年4月25日", mode="exact")
    assert beads_of(hits) == [4]
    assert matched_texts(hits[0]) == ["2019 年 4 月 25 日"]
    assert search(corpus["db"], "欧亚经济委员会", mode="exact")[0].bead == EEU_16
    assert search(corpus["db"], "no such words here", mode="exact") == []


def test_exact_mode_finds_every_occurrence_of_random_substrings(corpus):
    """The FTS phrase built for a substring must never lose a bead that holds it:
    compare with a brute-force scan for 150 substrings cut at random places
    (mid-word, mid-run, across punctuation and spaces) of both languages."""
    recs = corpus["records"]
    rnd = random.Random(11)
    checked = 0
    for _ in range(150):
        r = rnd.choice(recs)
        key = rnd.choice(("zh", "en"))
        text = r[key]
        size = rnd.randint(1, 10) if key == "zh" else rnd.randint(2, 30)
        start = rnd.randrange(max(1, len(text) - size))
        q = text[start : start + size].strip()
        if not q:
            continue
        script = query_script(q)
        keys = {"cjk": ["zh"], "other": ["en"], None: ["zh", "en"]}[script]
        rx = exact_regex(q)
        truth = [x["bead"] for x in recs if any(rx.search(fold(x[k])) for k in keys)]
        plain = {x["bead"] for x in recs if any(q.lower() in x[k].lower() for k in keys)}
        got = beads_of(search(corpus["db"], q, mode="exact", limit=100))
        # whole-word matches come first, then those inside longer words
        assert sorted(got) == truth, q
        assert plain <= set(got) and r["bead"] in got, q
        checked += 1
    assert checked > 120


def _apart_bigrams(texts: list[str]) -> tuple[str, int]:
    """A three-character query whose two bigrams are both in one of the texts
    (so the bigram index proposes it) though the query is not."""
    for i, text in enumerate(texts):
        runs = re.findall(r"[\u4e00-\u9fff]+", text)
        grams = {run[k : k + 2] for run in runs for k in range(len(run) - 1)}
        for ab in sorted(grams):
            for bc in sorted(grams):
                if ab[1] == bc[0] and ab[0] + bc not in "|".join(runs):
                    return ab[0] + bc, i
    raise AssertionError("no such query in these texts")


def test_bigrams_found_apart_are_not_a_match(corpus):
    """The CJK postings keep no positions: a query's bigrams are looked up
    anywhere in the text, and the search must drop texts that have them apart."""
    recs = corpus["records"]
    q, i = _apart_bigrams([r["zh"] for r in recs])
    con = sqlite3.connect(corpus["db"])
    candidates = {rowid >> 1 for rowid in Postings(con).all_of(cjk_word_tokens(word_terms(q))).tolist()}
    con.close()
    assert recs[i]["bead"] in candidates  # the index proposes it...
    truth = [r["bead"] for r in recs if q in r["zh"]]
    assert recs[i]["bead"] not in truth
    for mode in ("word", "exact"):
        assert beads_of(search(corpus["db"], q, mode=mode)) == truth, mode  # ...the text refuses it


def test_spacing_inside_a_chinese_run_and_bigrams_apart(tmp_path):
    """Candidates of the CJK table are first checked in SQL (the text without
    spaces holds the run) and, where the text has other whitespace or
    characters that fold into CJK ones, in Python: every spacing the exact
    pattern allows is found, bigrams apart are not."""
    texts = ["大熊猫", "大熊 猫", "大熊\u3000猫", "大熊\t猫", "大熊\n\n猫", "大熊\u00a0猫", "大 熊 猫", "大熊\u2003猫",
             "熊猫大熊", "猫大熊", "大熊，猫", "大熊x猫", "⼤熊猫大熊"]
    recs = [{"bead": i, "zh": t, "en": f"pair {i}", "zh_spans": [[0, 1]], "en_spans": [[0, 1]]} for i, t in enumerate(texts)]
    db = tmp_path / "spacing.db"
    build_index([write_jsonl(tmp_path / "spacing.jsonl", recs)], db, vectors=False)
    for q in ("大熊猫", "大熊 猫", "熊猫"):
        rx = exact_regex(q)
        truth = [i for i, t in enumerate(texts) if rx.search(fold(t))]
        assert beads_of(search(db, q, mode="exact", limit=50)) == truth, q
        words = word_terms(q)
        truth = [i for i, t in enumerate(texts) if all(term_regex(w).search(fold(t)) for w in words)]
        assert beads_of(search(db, q, limit=50)) == truth, q
    assert beads_of(search(db, "大熊猫", limit=50)) == [0, 1, 2, 3, 4, 5, 6, 7, 12]


def test_regex_mode(corpus):
    recs = corpus["records"]
    hits = search(corpus["db"], r"\(1[5-7]\)", mode="regex")
    assert beads_of(hits) == [r["bead"] for r in recs if re.search(r"\(1[5-7]\)", r["en"])]
    assert all(h.side == 1 for h in hits)
    hits = search(corpus["db"], r"大?熊猫.{0,2}保护", mode="regex")
    assert beads_of(hits) == [PANDA]
    assert matched_texts(hits[0]) == ["大熊猫保护"]
    with pytest.raises(AlignError, match="bad regular expression"):
        search(corpus["db"], "(unclosed", mode="regex")


# ---------------------------------------------------------------- clause addressing


def test_clause_addressing_in_both_languages(corpus):
    recs = corpus["records"]
    item16 = [r["bead"] for r in recs if r["number"] == 16 and r["section"]["zh"] == "务实合作"]
    assert item16 == [2, 3, 4]
    zh = search(corpus["db"], clause="十六", section="务实合作")
    en = search(corpus["db"], clause="16", section="practical coop")
    assert beads_of(zh) == beads_of(en) == item16
    assert zh[0].label() == "务实合作 (十六) / Practical cooperation (16)"
    assert zh[0].texts == (recs[2]["zh"], recs[2]["en"])
    # every way of writing the label, and sections matched in either language
    for label in ["（十六）", "(16)", "16", 16, "XVI", "第十六条"]:
        assert beads_of(search(corpus["db"], clause=label, section="Practical")) == item16, label
    every16 = [r["bead"] for r in recs if r["number"] == 16]
    assert beads_of(search(corpus["db"], clause="(16)")) == every16
    assert beads_of(search(corpus["db"], clause="十六", section="国际")) == [8]
    assert beads_of(search(corpus["db"], clause="16", section="INTERNATIONAL collab")) == [8]
    assert search(corpus["db"], clause="16", section="no such section") == []
    # a query narrowed by clause
    narrowed = [r["bead"] for r in recs if r["number"] == 16 and "eurasian" in r["en"].lower()]
    assert narrowed and len(narrowed) < len(every16)
    assert beads_of(search(corpus["db"], "Eurasian", clause="16", mode="exact")) == narrowed
    with pytest.raises(AlignError, match="clause label"):
        search(corpus["db"], clause="sixteenth-ish")


# ---------------------------------------------------------------- hostile queries


@pytest.mark.parametrize(
    "query",
    ['"', '""', "*", "AND", "OR NOT", "NEAR(", "(", ")", "col:x", "{zh}:x", '"Economic" AND (Union)', "Union* ^x", "a+b-c", "-", "熊猫 OR 豹"],
)
def test_fts_syntax_characters_are_plain_text(corpus, query):
    for mode in ("word", "exact"):
        try:
            hits = search(corpus["db"], query, mode=mode)
        except AlignError as exc:  # only for a query without any word
            assert mode == "word" and not re.search(r"\w", query), (query, exc)
            assert "no words" in str(exc)
            continue
        for h in hits:
            assert h.spans[h.side], (query, mode)


def test_operators_are_searched_as_words(corpus):
    hits = search(corpus["db"], '"Economic" AND (Union)')
    expected = [r["bead"] for r in corpus["records"] if all(re.search(rf"\b{w}\b", r["en"], re.I) for w in ("economic", "and", "union"))]
    assert beads_of(hits) == expected and expected
    # Chinese text joined with OR: OR must occur in the Chinese side, it does not
    assert search(corpus["db"], "熊猫 OR 豹") == []


@pytest.mark.parametrize("query", ["", "   ", None])
def test_empty_query_is_an_error(corpus, query):
    with pytest.raises(AlignError, match="empty query"):
        search(corpus["db"], query)


# ---------------------------------------------------------------- damaged or foreign indexes


def _copy_db(corpus, tmp_path: Path) -> Path:
    db = tmp_path / "copy.db"
    db.write_bytes(corpus["db"].read_bytes())
    return db


@pytest.mark.parametrize("version,word", [(min(store_mod.COPYABLE_VERSIONS) - 1, "older"), (SCHEMA_VERSION + 1, "newer")])
def test_schema_version_mismatch(corpus, tmp_path, version, word):
    db = _copy_db(corpus, tmp_path)
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version = {version}")
    con.close()
    before = db.read_bytes()
    with pytest.raises(AlignError, match=word):
        search(db, "熊猫")
    with pytest.raises(AlignError, match=f"{word}.*--fresh"):
        build_index([corpus["jsonl"]], db, encoder=HashEncoder())
    assert db.read_bytes() == before
    stats = build_index([corpus["jsonl"]], db, encoder=HashEncoder(), fresh=True)
    assert stats.total_beads == len(PAIRS)
    assert beads_of(search(db, "熊猫")) == [PANDA]


def test_a_build_carries_documents_over_from_the_previous_index_format(corpus, tmp_path):
    """Format 1 had one two-column FTS table; its other tables are those of
    today, so `align run` over an old output folder rebuilds it in place
    instead of refusing, while a lookup asks for the rebuild."""
    db = _copy_db(corpus, tmp_path)
    con = sqlite3.connect(db)
    con.executescript(
        "DROP TABLE cjk_postings; DROP TABLE fts_other; DELETE FROM vocab;"
        "CREATE VIRTUAL TABLE fts USING fts5(cjk, other, content='', columnsize=0, tokenize='unicode61 remove_diacritics 2');"
        "PRAGMA user_version = 1;"
    )
    con.close()
    with pytest.raises(AlignError, match="older version.*rebuild it with `align index`"):
        search(db, "熊猫")
    tmx = write_tmx(tmp_path / "memory.tmx", corpus["records"][5:])
    stats = build_index([tmx], db, encoder=HashEncoder())
    assert stats.kept == ("joint-statement",) and stats.documents == ("memory",)
    assert [(h.document, h.bead) for h in search(db, "大熊猫")] == [("joint-statement", PANDA), ("memory", PANDA - 5)]
    kept = search(db, "欧亚经济委员会", mode="exact", document="joint-statement")
    assert kept == search(corpus["db"], "欧亚经济委员会", mode="exact")
    assert kept[0].findings == (FINDING,)
    assert beads_of(search(db, clause="十六", section="务实合作")) == [2, 3, 4]


def test_missing_and_corrupt_index(corpus, tmp_path):
    with pytest.raises(AlignError, match="no index here"):
        search(tmp_path / "nothing.db", "熊猫")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database at all\n" * 200)
    with pytest.raises(AlignError, match="damaged or not an align index"):
        search(garbage, "熊猫")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t(x)").connection.close()
    with pytest.raises(AlignError, match="not an align index"):
        search(other, "熊猫")
    truncated = tmp_path / "truncated.db"
    data = corpus["db"].read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(AlignError, match="damaged"):
        for q in ("熊猫", "Eurasian Economic Union", "欧亚经济联盟"):
            search(truncated, q)
        search(truncated, clause="16")
        search(truncated, "Eurasian", mode="regex")


def test_vectors_file_from_another_build_is_rejected(corpus, tmp_path):
    db = _copy_db(corpus, tmp_path)
    vec = db.with_name(db.name + ".vectors.npy")
    vec.write_bytes(corpus["db"].with_name("align.db.vectors.npy").read_bytes())
    assert search(db, "x", mode="semantic", encoder=HashEncoder())  # a byte-identical copy is fine
    arr = np.load(vec)
    arr[0] = 0
    np.save(vec, arr)
    with pytest.raises(AlignError, match="does not belong to this index"):
        search(db, "x", mode="semantic", encoder=HashEncoder())
    vec.unlink()
    with pytest.raises(AlignError, match="vectors file missing"):
        search(db, "x", mode="semantic", encoder=HashEncoder())


def test_bad_input_files_leave_the_index_untouched(corpus, tmp_path):
    db = _copy_db(corpus, tmp_path)
    before = db.read_bytes()
    good = corpus["records"]
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text(json.dumps(good[0], ensure_ascii=False) + "\n{not json\n", encoding="utf-8")
    no_sides = write_jsonl(tmp_path / "nosides.jsonl", [{"bead": 0, "text": "x"}])
    dup = write_jsonl(tmp_path / "dup.jsonl", [good[0], good[0]])
    not_utf8 = tmp_path / "latin1.jsonl"
    not_utf8.write_bytes(json.dumps(good[0], ensure_ascii=False).encode("utf-8") + b"\n" + '{"bead": 1, "zh": "é"}'.encode("latin-1") + b"\n")
    bad_spans = write_jsonl(tmp_path / "spans.jsonl", [good[0], {**good[1], "en_spans": [[0, "12"]]}])
    bad_tmx = tmp_path / "bad.tmx"
    bad_tmx.write_text('<tmx version="1.4"><header srclang="en"/><body><tu><tuv xml:lang="en"><seg>x</seg></tu></body></tmx>', encoding="utf-8")
    not_tmx = tmp_path / "notes.xml"
    not_tmx.write_text("<html><body/></html>", encoding="utf-8")
    cases = [
        (bad_json, r"bad\.jsonl:2: invalid JSON"),
        (no_sides, "expected two sides"),
        (dup, r"dup\.jsonl:2: .*bead 0 appears twice"),
        (bad_spans, r"spans\.jsonl:2: .*spans must be lists of \[start, end\] integers"),
        (not_utf8, r"latin1\.jsonl:2: not UTF-8"),
        (bad_tmx, r"bad\.tmx: not valid TMX"),
        (not_tmx, "not a TMX file"),
        (tmp_path / "missing.jsonl", "no such file"),
        (tmp_path / "beads.csv", "cannot index this file type"),
    ]
    (tmp_path / "beads.csv").write_text("a,b\n", encoding="utf-8")
    for path, message in cases:
        with pytest.raises(AlignError, match=message):
            build_index([path], db, encoder=HashEncoder())
        assert db.read_bytes() == before, path
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert beads_of(search(db, "熊猫")) == [PANDA]


def test_jsonl_reader_gives_the_same_rows_with_or_without_its_fast_parser(corpus, tmp_path, monkeypatch):
    """Lines orjson refuses (a byte-order mark, blank lines, NaN) take Python's
    json, so the rows are those json gives; a lone surrogate escape is a
    clear error, not a traceback from SQLite."""
    from align.lookup import sources

    lines = [json.dumps(r, ensure_ascii=False) for r in corpus["records"]]
    lines[3] = lines[3].replace('"score": 0.9', '"score": NaN')
    path = tmp_path / "odd.jsonl"
    path.write_text("\ufeff" + lines[0] + "\n\n" + "\n   \n".join(lines[1:]) + "\n", encoding="utf-8")

    def rows() -> list:
        return [tuple("nan" if isinstance(x, float) and x != x else x for x in row) for row in sources.open_sources([path])[0].beads]

    fast = rows()  # with orjson when it is installed
    monkeypatch.setattr(sources, "_fast_loads", lambda: None)
    assert rows() == fast and len(fast) == len(lines) and fast[3][10] == "nan"
    monkeypatch.undo()
    bad = tmp_path / "surrogate.jsonl"
    bad.write_text("\n".join([lines[0], lines[1].replace('"zh": "', '"zh": "\\ud800', 1)]) + "\n", encoding="utf-8")
    with pytest.raises(AlignError, match=r"surrogate\.jsonl: a text is not valid Unicode"):
        build_index([bad], tmp_path / "x.db", vectors=False)
    assert not (tmp_path / "x.db").exists()


SHARED = ROOT.parent / "shared"


def test_two_sides_of_one_script_share_a_table(tmp_path):
    """A German-French document (Text+Berg gold beads): both sides go to
    fts_other, interleaved; a word is found on whichever side has it, and
    accented words are folded alike in the index and the query."""
    folder = SHARED / "bench" / "textberg-de-fr"
    if not (folder / "gold" / "001").is_file():
        pytest.skip(f"{folder} is absent (the shared benchmark data)")
    de = (folder / "de" / "001").read_text(encoding="utf-8").splitlines()
    fr = (folder / "fr" / "001").read_text(encoding="utf-8").splitlines()
    recs = []
    for n, line in enumerate((folder / "gold" / "001").read_text(encoding="utf-8").splitlines()):
        a, b = (json.loads(x) for x in line.split(":"))
        if a and b:
            recs.append({"bead": n, "de": " ".join(de[i] for i in a), "fr": " ".join(fr[i] for i in b), "de_spans": [[0, 1]], "fr_spans": [[0, 1]]})
    db = tmp_path / "defr.db"
    for parallel in (False, True):
        build_index([write_jsonl(tmp_path / "textberg-001.jsonl", recs)], db, vectors=False, parallel=parallel, fresh=True)
        for q, key in (("Nordostwand", "de"), ("nordest", "fr"), ("PENIBLES", "fr"), ("mühsam", "de")):
            truth = [r["bead"] for r in recs if re.search(rf"(?<!\w){re.escape(fold(q))}(?!\w)", fold(r[key]))]
            hits = search(db, q, limit=100)
            assert truth and beads_of(hits) == truth, q
            assert all(h.langs[h.side] == key for h in hits), q


# ---------------------------------------------------------------- TMX and rebuilding


def write_tmx(path: Path, records: list[dict]) -> Path:
    from lxml import etree

    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    root = etree.Element("tmx", version="1.4")
    etree.SubElement(root, "header", srclang="en-US", datatype="plaintext", segtype="paragraph",
                     adminlang="en", creationtool="test", creationtoolversion="1", **{"o-tmf": "none"})
    body = etree.SubElement(root, "body")
    for r in records:
        tu = etree.SubElement(body, "tu")
        for lang, text in (("en-US", r["en"]), ("zh-CN", r["zh"])):
            tuv = etree.SubElement(tu, "tuv", {xml_lang: lang})
            seg = etree.SubElement(tuv, "seg")
            seg.text = text
            if lang == "zh-CN":  # an inline code whose content is markup, not text
                ph = etree.SubElement(seg, "ph")
                ph.text = "<br/>"
                ph.tail = "。"
    etree.ElementTree(root).write(str(path), encoding="utf-8", xml_declaration=True)
    return path


def test_tmx_indexing_and_document_replacement(corpus, tmp_path):
    recs = corpus["records"]
    db = tmp_path / "tm.db"
    tmx = write_tmx(tmp_path / "memory.tmx", recs[5:])
    stats = build_index([corpus["jsonl"], tmx], db, encoder=HashEncoder())
    assert stats.documents == ("joint-statement", "memory")
    hits = search(db, "大熊猫")
    assert [(h.document, h.bead) for h in hits] == [("joint-statement", PANDA), ("memory", PANDA - 5)]
    tm_hit = hits[1]
    assert tm_hit.langs == ("en-us", "zh-cn") and tm_hit.side == 1
    assert tm_hit.texts == (recs[PANDA]["en"], recs[PANDA]["zh"] + "。")  # <ph> content dropped
    in_memory = [n for n, r in enumerate(recs[5:]) if "Eurasian Economic Union" in r["en"]]
    assert beads_of(search(db, "Eurasian Economic Union", document="memory")) == in_memory
    assert [h.document for h in search(db, "pandas")] == ["joint-statement", "memory"]

    # semantic row bookkeeping: each bead's own text comes back first, in both documents
    for doc, texts in (("joint-statement", [r["en"] for r in recs]), ("memory", [r["zh"] + "。" for r in recs[5:]])):
        for n, t in enumerate(texts):
            top = search(db, t, mode="semantic", encoder=HashEncoder(), document=doc, limit=1)[0]
            assert (top.document, top.texts.index(t) if t in top.texts else -1) == (doc, top.side)
            assert top.score == pytest.approx(1.0, abs=SELF_SCORE_TOLERANCE)

    # re-indexing a document replaces its rows and keeps the others (and their vectors)
    shorter = write_jsonl(tmp_path / "joint-statement.jsonl", [r for r in recs if r["bead"] != PANDA])
    stats = build_index([shorter], db, encoder=HashEncoder())
    assert stats.kept == ("memory",) and stats.vectors == 2 * (len(recs) - 1)
    assert [(h.document, h.bead) for h in search(db, "大熊猫")] == [("memory", PANDA - 5)]
    for r in recs[5:]:
        top = search(db, r["zh"] + "。", mode="semantic", encoder=HashEncoder(), limit=1)[0]
        assert (top.document, top.bead, top.side) == ("memory", r["bead"] - 5, 1)
        assert top.score == pytest.approx(1.0, abs=SELF_SCORE_TOLERANCE)
    # findings followed the re-indexed document's audit file (absent here)
    assert search(db, "Eurasian", mode="exact", clause="16")[0].findings == ()


def test_threaded_build_gives_the_same_index(corpus, tmp_path):
    """Big inputs get their CJK postings made on a thread of their own; force
    it on the small one, in batches of 2 beads."""
    db = tmp_path / "parallel.db"
    stats = build_index([corpus["jsonl"]], db, encoder=HashEncoder(), parallel=True, batch=2)
    assert stats.total_beads == len(PAIRS) and stats.findings == 1
    assert stats.timings["cpu_postings_thread"] > 0
    assert not list(tmp_path.glob(".*.tmp"))  # the thread's postings file was copied in and removed
    for q, mode in (("欧亚经济联盟", "word"), ("Eurasian Economic Union", "word"), ("anda", "exact"), ("熊猫", "exact"), ("豹", "word")):
        assert search(db, q, mode=mode) == search(corpus["db"], q, mode=mode)
    assert beads_of(search(db, clause="十六", section="务实合作")) == [2, 3, 4]
    for r in corpus["records"]:
        top = search(db, r["zh"], mode="semantic", encoder=HashEncoder(), limit=1)[0]
        assert (top.bead, top.side) == (r["bead"], 0)
    con = sqlite3.connect(db)
    built = dict(con.execute("SELECT term, ids FROM cjk_postings"))
    con.close()
    con = sqlite3.connect(corpus["db"])
    assert built == dict(con.execute("SELECT term, ids FROM cjk_postings"))
    con.close()


def test_many_postings_runs_and_term_ranges_give_the_same_lookups(corpus, tmp_path, monkeypatch):
    """Tiny sort chunks and merge ranges (many runs, merged range by range)
    give the same postings rows and lookups as the usual build; so does a
    small FTS5 term buffer for fts_other (many segments, merged at the end)."""
    from align.lookup import _writer, postings

    monkeypatch.setattr(postings, "CHUNK_PAIRS", 64)
    monkeypatch.setattr(postings, "RANGE_PAIRS", 50)
    monkeypatch.setattr(_writer, "FTS_HASH_BYTES", 2048)
    db = tmp_path / "runs.db"
    build_index([corpus["jsonl"]], db, vectors=False, parallel=False, batch=3)
    con = sqlite3.connect(db)
    built = dict(con.execute("SELECT term, ids FROM cjk_postings"))
    assert con.execute("SELECT count(DISTINCT segid) FROM fts_other_idx").fetchone()[0] <= _writer.MERGE_SEGMENTS
    con.close()
    con = sqlite3.connect(corpus["db"])
    assert built == dict(con.execute("SELECT term, ids FROM cjk_postings"))
    con.close()
    for q, mode in (("欧亚经济联盟", "word"), ("Eurasian Economic Union", "word"), ("anda", "exact"), ("熊", "word"), ("的", "exact")):
        assert search(db, q, mode=mode, limit=50) == search(corpus["db"], q, mode=mode, limit=50), q


def test_clause_filter_on_many_chinese_candidates(corpus, monkeypatch):
    """A clause filter over a query with many candidates is applied to the
    rest of them in numpy after the first ones (``_NARROW_AFTER``): the hits
    are those of the filter checked row by row, and of a plain scan."""
    search_mod = sys.modules["align.lookup.search"]
    recs = corpus["records"]
    cases = [("的", "十六", None), ("合作", "十六", "务实合作"), ("年", "16", None), ("欧亚", "十六", "国际协作")]
    plain = [search(corpus["db"], q, clause=c, section=s, limit=50) for q, c, s in cases]
    monkeypatch.setattr(search_mod, "_NARROW_AFTER", 0)
    assert [search(corpus["db"], q, clause=c, section=s, limit=50) for q, c, s in cases] == plain
    for (q, c, s), hits in zip(cases, plain):
        n = clause_number(c)
        truth = [r["bead"] for r in recs if q in r["zh"] and n in (clause_number(r["clause"]["zh"]), clause_number(r["clause"]["en"]))
                 and (s is None or s in (r["section"]["zh"], r["section"]["en"]))]
        assert beads_of(hits) == truth, (q, c, s)
    assert beads_of(plain[1])


def test_two_level_clusters_assign_rows_to_their_nearest_cluster():
    """Rows are assigned through their nearest groups of clusters: probing
    every group is the flat nearest-centroid rule, probing two nearly so."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3000, 24)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    clusters = vectors_mod.TwoLevelClusters(x, 60)
    k = clusters.centroids.shape[0]
    assert 50 <= k <= 70 and clusters.starts[-1] == k and clusters.groups.shape[0] < k
    assert np.allclose(np.linalg.norm(clusters.centroids, axis=1), 1, atol=1e-5)
    flat = np.argmax(x @ clusters.centroids.T, axis=1)
    assert (clusters.assign(x, probe=clusters.groups.shape[0]) == flat).all()
    assert (clusters.assign(x) == flat).mean() > 0.85
    assert np.bincount(clusters.assign(x), minlength=k).min() > 0  # no cluster left empty


def test_coarse_vectors_path(corpus, tmp_path, monkeypatch):
    """Large stores are searched through clusters of a PCA-projected copy;
    force that on a small one and probe every cluster: exact again."""
    monkeypatch.setattr(store_mod, "COARSE_MIN_ROWS", 4)
    monkeypatch.setattr(store_mod, "COARSE_DIM", 16)
    db = tmp_path / "coarse.db"
    build_index([corpus["jsonl"]], db, encoder=HashEncoder())
    monkeypatch.setattr(vectors_mod, "PROBE_FRACTION", 1.0)
    assert db.with_name("coarse.db.coarse.npy").is_file()
    for r in corpus["records"]:
        top = search(db, r["en"], mode="semantic", encoder=HashEncoder(), limit=1)[0]
        assert (top.bead, top.side) == (r["bead"], 1)
        assert top.score == pytest.approx(1.0, abs=SELF_SCORE_TOLERANCE)


def test_semantic_refuses_without_vectors_or_with_another_encoder(corpus, tmp_path):
    db = tmp_path / "novec.db"
    build_index([corpus["jsonl"]], db, vectors=False)
    assert not db.with_name("novec.db.vectors.npy").exists()
    with pytest.raises(AlignError, match="no sentence vectors"):
        search(db, "pandas", mode="semantic", encoder=HashEncoder())

    class Other(HashEncoder):
        name = "other-model"

    with pytest.raises(AlignError, match="hash-trigram-64"):
        search(corpus["db"], "pandas", mode="semantic", encoder=Other())
    with pytest.raises(AlignError, match="no document in the index has language 'fr'"):
        search(corpus["db"], "pandas", mode="semantic", encoder=HashEncoder(), side="fr")


# ---------------------------------------------------------------- context, findings, output


def test_context_findings_and_formatting(corpus):
    hits = search(corpus["db"], "欧亚经济委员会", mode="exact", context=1)
    assert len(hits) == 1
    h = hits[0]
    assert [c.bead for c in h.before] == [EEU_16 - 1] and [c.bead for c in h.after] == [EEU_16 + 1]
    assert h.findings == (FINDING,)
    assert h.source_spans[0] == tuple(map(tuple, corpus["records"][EEU_16]["zh_spans"]))
    plain = format_hits(hits, color=False, width=100)
    assert "joint-statement · bead 2 · 务实合作 (十六) / Practical cooperation (16)" in plain
    assert "⚑ major mistranslation: 欧亚经济联盟 rendered as" in plain
    assert "\x1b[" not in plain
    for line in plain.splitlines():
        assert sum(2 if ord(c) > 0x2E80 else 1 for c in line) <= 100 + 2, line
    colored = format_hits(hits, color=True, width=100)
    assert "\x1b[" in colored and "欧亚经济委员会" in re.sub(r"\x1b\[[0-9;]*m", "", colored)
    # the highlight wraps exactly the match
    assert re.search(r"\x1b\[[0-9;]*m欧亚经济委员会\x1b\[0m", colored)
    data = json.loads(hits_to_json(hits))
    assert data[0]["zh"] == corpus["records"][EEU_16]["zh"]
    assert data[0]["match"]["side"] == "zh"
    s, e = data[0]["match"]["spans"]["zh"][0]
    assert data[0]["zh"][s:e] == "欧亚经济委员会"
    assert data[0]["clause"] == {"zh": "(十六)", "en": "(16)"} and data[0]["number"] == 16
    assert [c["bead"] for c in data[0]["context"]] == [1, 3]
    assert format_hits([], color=False) == "no matches"


# ---------------------------------------------------------------- semantic, real encoder (about 3 s)


def test_semantic_search_is_cross_lingual_with_use(corpus, tmp_path):
    from align.embed import get_encoder

    enc = get_encoder(None, cache=False)
    db = tmp_path / "use.db"
    t0 = time.perf_counter()
    build_index([corpus["jsonl"]], db, encoder=enc)
    # an English question, looked up among the Chinese sides only
    hits = search(db, "Which animals will China give to Russia?", mode="semantic", encoder=enc, side="zh", limit=3)
    assert hits[0].bead == PANDA and hits[0].side == 0
    assert "大熊猫" in hits[0].texts[0]
    assert hits[0].score > hits[1].score
    # and a Chinese one among the English sides
    hits = search(db, "欧亚经济联盟经贸合作协定早日生效", mode="semantic", encoder=enc, side="en", limit=3)
    assert hits[0].bead == EEU_AGREEMENT and hits[0].side == 1
    assert time.perf_counter() - t0 < 60


# ---------------------------------------------------------------- the real aligner output


@pytest.fixture(scope="module")
def real_index(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if not JS_BEADS.is_file():
        pytest.skip(f"{JS_BEADS} is absent: run `align run` to make it")
    tmp = tmp_path_factory.mktemp("real")
    records = [json.loads(line) for line in JS_BEADS.read_text(encoding="utf-8").splitlines() if line.strip()]
    inline, threaded = tmp / "inline.db", tmp / "threaded.db"
    build_index([JS_BEADS], inline, vectors=False, parallel=False)
    build_index([JS_BEADS], threaded, vectors=False, parallel=True)
    return {"records": records, "inline": inline, "threaded": threaded}


def _real_queries(records: list[dict]) -> dict[str, list[str]]:
    """A Chinese substring and an English word from every bead, English
    phrases and word fragments from some, and a few chosen by hand."""
    rnd = random.Random(21)
    zh_subs, en_words, phrases, fragments = [], [], [], []
    for r in records:
        runs = re.findall(r"[\u4e00-\u9fff]+", r["zh"])
        if runs:
            run = rnd.choice(runs)
            k = min(len(run), rnd.choice((1, 2, 3, 4)))
            i = rnd.randrange(len(run) - k + 1)
            zh_subs.append(run[i : i + k])
        words = re.findall(r"[A-Za-z]{2,}", r["en"])
        if words:
            en_words.append(rnd.choice(words))
    for r in rnd.sample(records, 40):
        toks = r["en"].split()
        i = rnd.randrange(max(1, len(toks) - 3))
        phrases.append(" ".join(toks[i : i + rnd.choice((2, 3, 4))]))
        words = [w for w in re.findall(r"[A-Za-z]{5,}", r["en"])]
        if words:
            fragments.append(rnd.choice(words)[1:-1])
    return {
        "zh": ["欧亚经济联盟", "熊猫", "合作", "中俄", "一带一路", "豹", *zh_subs],
        "en": ["Eurasian", "cooperation", "pandas", "the", "Belt and Road", "Eurasian Economic Union", *en_words],
        "exact": ["European-European Economic Union", "conomic Un", "2019", *phrases, *fragments, *zh_subs[::5]],
    }


@pytest.mark.slow  # about 10 s: some 700 lookups on each of two indexes
def test_real_index_lookups_match_a_plain_scan_and_both_build_paths(real_index):
    """What the bulk loader builds must not change what a lookup returns. On
    the real Joint Statement output (221 beads), Chinese substrings, English
    words, exact phrases and fragments and clause addresses give, from an
    index built in-process and one whose postings were made on a thread, the same hits,
    and those are the beads a plain scan of the JSONL finds."""
    recs, inline, threaded = real_index["records"], real_index["inline"], real_index["threaded"]
    queries = _real_queries(recs)
    key = {"cjk": "zh", "other": "en"}
    checked = 0
    for q in queries["zh"] + queries["en"]:
        side = key[query_script(q)]
        patterns = [term_regex(t) for t in word_terms(q)]
        truth = [r["bead"] for r in recs if all(p.search(fold(r[side])) for p in patterns)]
        hits = search(inline, q, limit=500)
        assert beads_of(hits) == truth, q
        assert hits == search(threaded, q, limit=500), q
        checked += bool(truth)
    for q in queries["exact"]:
        sides = {"cjk": ["zh"], "other": ["en"], None: ["zh", "en"]}[query_script(q)]
        rx = exact_regex(q)
        truth = [r["bead"] for r in recs if any(rx.search(fold(r[s])) for s in sides)]
        hits = search(inline, q, mode="exact", limit=500)
        assert sorted(beads_of(hits)) == truth, q  # whole-word matches first, then the rest
        assert hits == search(threaded, q, mode="exact", limit=500), q
        checked += bool(truth)
    assert checked > 450
    for clause, section in (("十六", "务实合作"), ("16", "Practical cooperation"), ("(16)", None), (None, "务实合作"), ("3", "政治")):
        want = " ".join(fold(section).split()) if section else None
        truth = [
            r["bead"] for r in recs
            if (clause is None or r["number"] == clause_number(clause))
            and (want is None or any(want in " ".join(fold(r["section"][k] or "").split()) for k in ("zh", "en")))
        ]
        hits = search(inline, clause=clause, section=section, limit=500)
        assert truth and beads_of(hits) == truth, (clause, section)
        assert hits == search(threaded, clause=clause, section=section, limit=500)
    # the audit findings travel with their beads through both builds
    audit = JS_BEADS.with_name("joint-statement.audit.jsonl")
    if audit.is_file():
        findings: dict[int, list[dict]] = {}
        for line in audit.read_text(encoding="utf-8").splitlines():
            if line.strip():
                f = json.loads(line)
                findings.setdefault(f["bead"], []).append(f)
        for h in search(threaded, clause="十六", section="务实合作", limit=50):
            assert list(h.findings) == findings.get(h.bead, []), h.bead


def test_an_error_on_the_postings_thread_reaches_the_builder(tmp_path):
    """The thread stops on an error; the builder's next hand-over raises it
    (instead of waiting for ever on a full queue), and abort returns."""
    from align.lookup.postings import PostingsSink

    sink = PostingsSink(PostingsBuilder(), tmp_path / "postings.db", queue_batches=1)
    with pytest.raises(AlignError, match="limited to"):
        for k in range(50):
            sink.put([(1 << 33) + k], ["中文"])
    sink.abort()
    assert not (tmp_path / "postings.db").exists()


def _fts_state(db: Path) -> tuple[set, list]:
    con = sqlite3.connect(db)
    try:
        con.execute("INSERT INTO fts_other(fts_other) VALUES ('integrity-check')")  # raises on a damaged FTS5 index
        vocab = {t for (t,) in con.execute("SELECT term FROM vocab")}
        con.execute("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, fts_other, 'instance')")
        postings = list(con.execute("SELECT term, doc, offset FROM temp.v ORDER BY term, doc, offset"))
    finally:
        con.close()
    return vocab, postings


def test_fts_thread_builds_the_same_table_as_the_builder(tmp_path):
    """Big inputs get ``fts_other`` made on a thread, in a file of its own
    whose shadow tables are copied in: the copy passes FTS5's integrity check
    and holds the same words, positions and vocabulary as the inline build,
    also for batches with empty sides (rowids not evenly spaced), a NUL in a
    text and an English side with quotes and backslashes (JSON escapes)."""
    recs = [
        {"bead": 0, "zh": "中俄关系", "en": "Relations between \"China\" and Russia\\", "zh_spans": [[0, 4]], "en_spans": [[0, 5]]},
        {"bead": 1, "zh": "合作", "en": "", "zh_spans": [[4, 6]], "en_spans": None},
        {"bead": 2, "zh": "", "en": "a lone side\u0000after the NUL", "zh_spans": None, "en_spans": [[5, 9]]},
        *({"bead": 3 + k, "zh": f"第{k}条", "en": f"Article {k} of the Treaty, café {k * 7}", "zh_spans": [[k, k + 1]],
           "en_spans": [[k, k + 1]]} for k in range(40)),
    ]
    src = write_jsonl(tmp_path / "fts.jsonl", recs)
    inline, threaded = tmp_path / "inline.db", tmp_path / "threaded.db"
    build_index([src], inline, vectors=False, parallel=False, batch=3)
    stats = build_index([src], threaded, vectors=False, parallel=True, batch=3)
    assert stats.timings["cpu_fts_thread"] > 0
    assert not list(tmp_path.glob(".*.tmp"))  # the thread's file was copied in and removed
    vocab, postings = _fts_state(threaded)
    assert (vocab, postings) == _fts_state(inline)
    assert {"after", "cafe", "treaty", "relations"} <= vocab and len(postings) > 250
    for q, mode in (("after the NUL", "exact"), ("Treaty", "word"), ("cafe 21", "word"), ("China", "word"), ("合作", "word")):
        assert search(threaded, q, mode=mode, limit=100) == search(inline, q, mode=mode, limit=100), q
    assert beads_of(search(threaded, "after the NUL", mode="exact")) == [2]


def test_an_error_on_the_fts_thread_reaches_the_user(tmp_path, monkeypatch):
    """A failing insert on the fts thread stops the build with a one-line
    error; the old index stays and no temp file is left."""
    from align.lookup import _writer

    src = write_jsonl(tmp_path / "doc.jsonl", [{"bead": k, "zh": f"第{k}条", "en": f"Article {k}", "zh_spans": [[0, 1]],
                                                "en_spans": [[0, 1]]} for k in range(30)])
    db = tmp_path / "index.db"
    build_index([src], db, vectors=False, parallel=True)
    before = db.read_bytes()

    def broken(self, con, rowids, texts):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(_writer.FtsSink, "_insert", broken)
    with pytest.raises(AlignError, match=r"index\.db: building the index failed: disk I/O error"):
        build_index([src], db, vectors=False, parallel=True, batch=2)
    assert db.read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))
