"""CC-CEDICT lexical evidence on Joint Statement vocabulary."""

import math
import os
import time
from pathlib import Path

import pytest

from align.lexicon import Lexicon, en_stems, load_lexicon, parse_cedict, stem

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def lex():
    return load_lexicon()


def test_stem_joins_inflections_and_derivations():
    assert stem("cooperation") == stem("cooperate") == stem("cooperative") == stem("cooperating")
    assert stem("countries") == stem("country")
    assert stem("Syrian") == stem("Syria")
    assert stem("Eurasian") == stem("Eurasia")
    assert stem("organisations") == stem("organization")
    assert stem("relationship") == stem("relations")
    assert stem("Chinese") == stem("China") == stem("Sino")
    assert stem("development") == stem("developed") == stem("develop")
    assert stem("economic") == stem("economy")
    assert stem("security") != stem("economy")


def test_en_stems_drop_stopwords_and_split_hyphens():
    assert en_stems("the") == []
    assert en_stems("European-European")[-2:] == [stem("European")] * 2
    assert set(en_stems("narrator-led")) >= {stem("narrator"), stem("lead")}
    assert stem("nonaligned") in en_stems("non-aligned")
    assert en_stems("1,000") == ["1000"]


def test_glosses_are_clean(lex):
    # CEDICT noise (pinyin, "surname", classifiers, references) is removed
    for w in ("俄", "伊", "叙", "合作"):
        words = lex.en_words(w)
        assert words, w
        assert not any(s[0].isdigit() for s in words), (w, words)
        assert "surnam" not in words and "cl" not in words and "luo" not in words
    assert stem("Russia") in lex.en_words("俄")
    assert {stem("Iran"), stem("Iraq")} <= lex.en_words("伊")
    assert set(lex.expansions("伊")) == {"伊朗", "伊拉克"}
    assert stem("cooperation") in lex.en_words("合作")
    assert stem("mine") in lex.en_words("排雷")


def test_unknown_compound_falls_back_to_subwords(lex):
    assert "叙人" not in lex
    assert stem("Syrian") in lex.en_words("叙人")
    eeu = lex.en_words("欧亚经济联盟")
    assert {stem("Eurasian"), stem("economic"), stem("union")} <= eeu
    # a transliterated name does not borrow glosses of its characters (梅 plum)
    assert stem("plum") not in lex.en_words("梅德韦杰夫")
    assert stem("Medvedev") in lex.en_words("梅德韦杰夫")


def test_match_on_joint_statement_sentence(lex):
    import jieba

    zh = "俄方支持“一带一路”倡议，中方支持在欧亚经济联盟框架内推动一体化进程。"
    en = ('The Russian side supports the "One Belt, One Road" initiative, and China supports the '
          "promotion of the integration process within the framework of the Eurasian Economic Union.")
    zt = list(jieba.cut(zh))
    et = en.replace('"', " ").replace(",", " ").replace(".", " ").split()
    m = lex.match(zt, et)
    assert 0.7 <= m.zh_coverage <= 1.0
    assert 0.7 <= m.en_coverage <= 1.0
    hit_words = {zt[i] for i in m.zh_hits}
    assert {"俄方", "倡议", "欧亚", "经济", "联盟", "框架", "一体化"} <= hit_words
    for i, j in m.pairs:
        assert i in m.zh_hits and j in m.en_hits
    # an unrelated sentence is poorly covered
    other = "The two sides will strengthen cooperation in the field of aerospace and satellite navigation.".split()
    assert lex.match(zt, other).zh_coverage < 0.3
    # the bag API agrees with match
    assert lex.zh_bag(zt) & lex.en_bag(et)
    empty = lex.match(["的", "，"], ["the"])
    assert math.isnan(empty.zh_coverage) and math.isnan(empty.en_coverage)


def test_match_is_fast(lex):
    zt = ["双方", "将", "继续", "加强", "经贸", "合作", "推动", "欧亚经济联盟", "对接"]
    et = "the two sides will continue to strengthen economic and trade cooperation".split()
    zb, eb = lex.zh_bag(zt), lex.en_bag(et)
    t = time.perf_counter()
    for _ in range(100_000):
        zb & eb
    assert time.perf_counter() - t < 2.0


TINY = """# comment
俄 俄 [E2] /Russia/Russian/abbr. for 俄羅斯|俄罗斯[E2 luo2 si1]/Taiwan pr. [E4]/
俄羅斯 俄罗斯 [E2 luo2 si1] /Russia/
合作 合作 [he2 zuo4] /to cooperate/to collaborate/cooperation/CL:個|个[ge4]/
伊 伊 [Yi1] /surname Yi/abbr. for 伊拉克[Yi1 la1 ke4], Iraq/abbr. for 伊朗[Yi1 lang3], Iran/
"""


def test_tiny_dictionary_parse_and_cache(tmp_path, monkeypatch):
    import gzip

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    src = tmp_path / "tiny.txt.gz"
    with gzip.open(src, "wt", encoding="utf-8") as fh:
        fh.write(TINY)
    a = Lexicon.load(src)
    assert a.stems_of("俄") == {"russia"}
    assert a.stems_of("合作") == {stem("cooperate"), stem("collaborate")}
    assert a.stems_of("伊") == {"iran", "iraq"}
    assert set(a.expansions("伊")) == {"伊拉克", "伊朗"}
    files = list((tmp_path / "cache" / "align").glob("cedict-*.pickle"))
    assert len(files) == 1
    src.unlink()  # the second load must come from the cache, not the (gone) data file
    with pytest.raises(FileNotFoundError):
        parse_cedict(src)
    src.write_bytes(b"")
    os.utime(src, (files[0].stat().st_mtime, os.stat(files[0]).st_mtime))
    # a changed data file (size/mtime) is not served from the old cache
    b = Lexicon.load(src)
    assert b.table == {}


def test_real_cache_loads_fast():
    load_lexicon()  # make sure the cache exists
    t = time.perf_counter()
    lex = Lexicon.load()
    assert time.perf_counter() - t < 3.0
    assert len(lex.table) > 100_000
