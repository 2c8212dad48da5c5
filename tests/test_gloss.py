"""Word-by-word glosses and clause halves: the aligner's extra views of a sentence, on the Joint Statement."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from align.gloss import Glosser, glosses
from align.pairfeatures import half_cut, side_evidence

REPO = Path(__file__).resolve().parents[1]
ZH = (REPO / "texts" / "zh" / "joint-statement.txt").read_text(encoding="utf-8")
EN = (REPO / "texts" / "en" / "joint-statement.txt").read_text(encoding="utf-8")

VISIT = "两国元首在莫斯科举行会谈，习近平主席会见俄罗斯联邦政府总理德·阿·梅德韦杰夫。"


def test_gloss_of_a_joint_statement_sentence_shares_the_translation_words():
    assert VISIT in ZH
    got = glosses([VISIT])[0].lower().split()
    # the machine translation: "The two heads of state held talks in Moscow. President Xi Jinping met with the Prime Minister..."
    for word in ("moscow", "xi", "jinping", "russian", "federation", "government", "talks"):
        assert word in got, (word, got)
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in " ".join(got))  # only English left


def test_words_the_dictionary_lacks_become_a_pinyin_name_or_their_parts():
    g = Glosser()
    assert g.word("吴佩珍") == "Wu Peizhen"  # surname + given name, absent from CC-CEDICT
    assert g.word("了") == ""  # a grammatical particle says nothing in English
    assert g.word("2019") == "2019"


def test_glosses_bring_the_chinese_sentence_closer_to_its_translation():
    from align.embed import get_encoder

    enc = get_encoder()
    zh = [VISIT, "中俄双方均予以隆重庆祝。"]
    en = ["The two heads of state held talks in Moscow. President Xi Jinping met with the Prime Minister of the Russian Federation.",
          "It was celebrated by both China and Russia."]
    assert "held talks in Moscow" in EN
    sim = enc.encode(glosses(zh)) @ enc.encode(en).T
    assert sim[0, 0] > sim[0, 1] + 0.2 and sim[1, 1] > sim[1, 0]  # each gloss is nearest its own translation


def test_halves_cut_at_the_clause_mark_nearest_the_middle():
    texts = [VISIT, "The two heads of state held talks in Moscow", "短句"]
    cuts = [half_cut(t) for t in texts]
    assert VISIT[: cuts[0]] == "两国元首在莫斯科举行会谈，" and VISIT[cuts[0]:].startswith("习近平")
    assert texts[1][: cuts[1]].endswith(" ") and 0 < cuts[1] < len(texts[1])
    assert 0 <= cuts[2] <= 2


def test_side_evidence_halves_split_each_sentence_bag_and_gloss_the_chinese():
    zh = side_evidence([VISIT], "zh", "en")
    whole, (first, second) = zh.bags.sets()[0], (h.sets()[0] for h in zh.halves)
    assert first and second and first | second == whole
    assert "moscow" in {w.lower() for w in first} and not {"moscow"} & {w.lower() for w in second}
    assert zh.glosses == glosses([VISIT])
    assert side_evidence(["The two heads of state held talks in Moscow."], "en", "zh").glosses is None
