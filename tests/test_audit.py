"""Translation audit on the real Joint Statement and false alarms on MAC-Dev."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from align.audit import MQM, audit, summarize
from align.audit.base import AuditContext
from align.audit.gold import load_vecalign, pair_from_lines, read_judged_beads
from align.model import AlignError

REPO = Path(__file__).resolve().parents[1]
MAC_DEV = REPO.parent / "shared" / "bench" / "mac-dev"
JS_FAITHFUL = REPO / "tests" / "data" / "js_faithful_beads.txt"
# measured with bench/audit_calibration.py: 0.043 of MAC-Dev gold beads with the encoder
MAC_DEV_MAX_FALSE_ALARMS = 0.07
# the target; measured 0.041 with the encoder, 0.076 without (145 beads judged faithful)
JS_MAX_FALSE_ALARMS = 0.10


@pytest.fixture(scope="module")
def js():
    """The aligned Joint Statement from the real pipeline, audited as `align run`
    does (with the sentence encoder) and with lexical evidence only."""
    from align.embed import get_encoder
    from align.pipeline import RunOptions, align_files

    enc = get_encoder()
    pair, _ = align_files(REPO / "texts/zh/joint-statement.txt", REPO / "texts/en/joint-statement.txt",
                          formats=(), encoder=enc, options=RunOptions(audit=False))
    audit(pair)  # load jieba, the lexicon and CEDICT senses once: time the audit, not the loading
    t = time.perf_counter()
    with_encoder = audit(pair, encoder=enc)
    seconds = time.perf_counter() - t
    return pair, {"encoder": with_encoder, "lexical": audit(pair)}, seconds


def _find(pair, findings, kinds, zh=None, en=None):
    """Findings of the given kinds whose evidence spans contain the words."""
    hits = []
    for f in findings:
        if f.kind not in kinds:
            continue
        ztxt = " ".join(pair.src.text[s:e] for s, e in f.src_spans)
        etxt = " ".join(pair.tgt.text[s:e] for s, e in f.tgt_spans)
        if (zh is None or zh in ztxt) and (en is None or en in etxt):
            hits.append(f)
    return hits


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["encoder", "lexical"])
@pytest.mark.parametrize("kinds,zh,en", [
    (("number",), "二〇一九年六月五日", "June 5, 2009"),
    (("entity",), "欧亚", "European-European Economic Union"),
    (("entity",), "欧亚", "Economic Commission for Europe and Asia"),
    (("inconsistency",), "欧亚", "Europe"),
    (("entity",), "伊", "Iraq"),
    (("entity",), "弗·弗·普京", "F. Fu Putin"),
    (("entity",), "德·阿·梅德韦杰夫", "De A. Medvedev"),
    (("entity",), "深圳北理莫斯科大学", "Moscow University in Beijing"),
    (("mistranslation",), "叙人", "narrator-led"),
    (("mistranslation",), "守望相助", "Watching each other"),
    (("omission",), "排雷", None),
    (("untranslated",), "水平 and 质量", "level and quality"),
])
def test_public_examples_are_found(js, mode, kinds, zh, en):
    pair, findings, _ = js
    assert _find(pair, findings[mode], kinds, zh, en), f"no {kinds} finding on {zh} / {en} ({mode})"


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["encoder", "lexical"])
def test_dropped_demining_clause_points_at_both_texts(js, mode):
    """就排雷等向叙提供协助 of item (十八) lost all but "Assistance": the finding
    names the missing Chinese words and the English place where they belong."""
    pair, findings, _ = js
    hits = _find(pair, findings[mode], ("omission",), "排雷")
    assert len(hits) == 1
    f = hits[0]
    bead = pair.alignment.beads[f.bead]
    assert 18 in {pair.src_segments[i].number for i in bead.src}  # item (十八)
    missing = " ".join(pair.src.text[s:e] for s, e in f.src_spans)
    assert "排雷" in missing and "提供" in missing and "协助" not in missing  # 协助 is rendered
    (es, ee), = f.tgt_spans
    en = pair.tgt.text
    # between the rendering of the previous clause and that of the next one
    assert en.index("Syria's reconstruction") < es < ee < en.index("willing to strengthen communication")
    assert len(en[es:ee].split()) <= 3
    assert f.extra["insert_at"] in (es, ee)
    assert f.severity == "major" and f.mqm == MQM["omission"]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["encoder", "lexical"])
def test_watching_each_other_drops_the_help(js, mode):
    pair, findings, _ = js
    hits = _find(pair, findings[mode], ("mistranslation",), "守望相助", "Watching each other")
    assert len(hits) == 1
    f = hits[0]
    assert "相助" in f.message and "help" in f.message  # what got lost, in words a translator reads
    assert pair.tgt.text[slice(*f.tgt_spans[0])] == "Watching each other"


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["encoder", "lexical"])
def test_few_false_alarms_on_beads_judged_faithful(js, mode):
    pair, findings, _ = js
    faithful = set(read_judged_beads(JS_FAITHFUL, pair))
    assert len(faithful) >= 100
    flagged = {f.bead for f in findings[mode]} & faithful
    assert len(flagged) / len(faithful) <= JS_MAX_FALSE_ALARMS, sorted(flagged)


@pytest.mark.slow
def test_findings_are_well_formed_and_fast(js):
    pair, all_findings, seconds = js
    findings = all_findings["encoder"]
    assert findings
    assert [f.bead for f in findings] == sorted(f.bead for f in findings)
    n_beads = len(pair.alignment.beads)
    for f in findings:
        assert f.kind in MQM and f.mqm == MQM[f.kind]
        assert f.severity in ("critical", "major", "minor")
        assert 0 <= f.bead < n_beads
        assert f.src_spans or f.tgt_spans
        for (s, e), text in ((sp, pair.src.text) for sp in f.src_spans):
            assert 0 <= s < e <= len(text)
        for (s, e), text in ((sp, pair.tgt.text) for sp in f.tgt_spans):
            assert 0 <= s < e <= len(text)
        assert f.src_text == " … ".join(pair.src.text[s:e] for s, e in f.src_spans)
        assert f.message
    # the audit is a few seconds on top of the alignment (measured 1.5-3 s)
    assert seconds < 15
    # the audit flags a minority of the Joint Statement beads, not everything
    flagged = {f.bead for f in findings}
    assert len(flagged) < 0.3 * n_beads
    text = summarize(findings)
    assert "entity" in text and "by severity" in text


def test_false_alarms_on_mac_dev_gold_beads():
    if not MAC_DEV.exists():
        pytest.skip(f"{MAC_DEV} not found (shared benchmark data)")
    total = flagged = 0
    for name in ("001", "003", "005"):
        pair = load_vecalign(MAC_DEV, name)
        findings = audit(pair)
        total += len(pair.alignment.beads)
        flagged += len({f.bead for f in findings})
    assert flagged / total <= MAC_DEV_MAX_FALSE_ALARMS, flagged / total


def test_clause_check_needs_an_outlier():
    """A faithful human translation yields no clause findings (support is judged per document)."""
    if not MAC_DEV.exists():
        pytest.skip(f"{MAC_DEV} not found (shared benchmark data)")
    pair = load_vecalign(MAC_DEV, "004")
    assert audit(pair, checks=["clauses"]) == []


def test_context_reads_abbreviations_in_context():
    zh = "双方强调必须维护对伊互利经贸合作，伊朗核问题全面协议具有重大意义。"
    en = "The two sides stressed the need to maintain mutually beneficial economic and trade cooperation with Iraq."
    pair = pair_from_lines("t", [zh], [en], [((0,), (0,))])
    ctx = AuditContext(pair)
    tok = next(t for t in ctx.beads[0].src_toks if t.text == "伊")
    assert "iran" in tok.stems and "iraq" not in tok.stems
    fs = audit(pair, checks=["entities"])
    assert any(f.kind == "entity" and "Iraq" in f.tgt_text for f in fs)


def test_a_word_is_support_only_where_its_clause_is_rendered():
    """叙 may not borrow the "Syria" that renders 叙利亚 in the previous clause."""
    from align.audit.clauses import clause_rows

    zh = "强调叙利亚重建的迫切性，就排雷等向叙提供协助，并愿就此加强沟通协调。"
    dropped = ("They emphasize the urgency of Syria's reconstruction. Assistance and willing to strengthen "
               "communication and coordination in this regard.")
    kept = ("They emphasize the urgency of Syria's reconstruction, provide Syria with assistance in mine "
            "clearance, and will strengthen communication and coordination in this regard.")

    def row(en):
        ctx = AuditContext(pair_from_lines("t", [zh], [en], [((0,), (0,))]))
        r = next(r for r in clause_rows(ctx)["src"] if "排雷" in ctx.src_text((r.clause.start, r.clause.end)))
        return ctx, r

    ctx, r = row(dropped)
    assert {ctx.beads[0].src_toks[i].text for i in r.missing} == {"排雷", "叙", "提供"}
    assert r.support == pytest.approx(0.25)
    ctx, r = row(kept)
    assert r.missing == () and r.support == 1.0


def test_term_rendered_in_part_is_a_mistranslation():
    zh = "——守望相助，相互给予更加坚定有力的战略支持。"
    wrong = "-- Watching each other, giving each other more firm and strong strategic support."
    right = "-- Mutual help and protection, giving each other more firm and strong strategic support."
    fs = audit(pair_from_lines("t", [zh], [wrong], [((0,), (0,))]), checks=["terms"])
    assert [(f.kind, f.src_text, f.tgt_text) for f in fs] == [("mistranslation", "守望相助", "Watching each other")]
    assert audit(pair_from_lines("t", [zh], [right], [((0,), (0,))]), checks=["terms"]) == []


def test_judged_beads_are_found_again_by_their_text(tmp_path):
    pair = pair_from_lines("t", ["甲乙。", "丙丁。", "戊己。"], ["A.", "B.", "C."],
                           [((0,), (0,)), ((1,), (1,)), ((2,), (2,))])
    path = tmp_path / "judged.txt"
    path.write_text("# comment\n1\t丙丁\n0\t戊 己\n", encoding="utf-8")
    assert read_judged_beads(path, pair) == [1, 2]  # the second line's text moved to bead 2
    path.write_text("1\t庚辛\n", encoding="utf-8")
    with pytest.raises(AlignError, match="no bead"):
        read_judged_beads(path, pair)


# ------------------------------------------------------- round 2: garbling, names, drift
JS_PROBLEMS = REPO / "tests" / "data" / "js_problem_beads.txt"
# measured with bench/audit_calibration.py (encoder on): 35/38 listed major problems flagged
# (34/38 without the encoder)
JS_MIN_MAJOR_RECALL = 0.9


def _bead_of(pair, zh_start):
    """The bead whose Chinese starts with the given words (bead numbers shift with the aligner)."""
    for k, b in enumerate(pair.alignment.beads):
        z = "".join("".join(pair.src_segments[i].text for i in b.src).split())
        if z.startswith(zh_start):
            return k
    raise AssertionError(f"no bead starts with {zh_start}")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["encoder", "lexical"])
@pytest.mark.parametrize("zh,en,signal", [
    ("主权", "independent, independent", "repetition"),     # 拥有完全主权的、独立 -> "completely independent, independent"
    ("保护", "cooperation and cooperation", "repetition"),  # 保护合作 -> "the cooperation and cooperation"
    ("社会", "social and social", "repetition"),
    ("非", "non-tripartite", "misreading"),                 # 在非三方合作: 非 is Africa here
    ("图们", "Picture", "misreading"),                      # 大图们倡议 -> "Big Picture"
    (None, "Dialogue", "seam"),                             # "continue to develop the road Dialogue with the concept"
    (None, "International terrorism", "seam"),
])
def test_garbled_words_are_mistranslations_with_both_spans(js, mode, zh, en, signal):
    pair, findings, _ = js
    hits = [f for f in _find(pair, findings[mode], ("mistranslation",), zh, en)
            if f.extra.get("signal") == signal or signal in str(f.extra.get("also", ""))]
    assert len(hits) == 1, [(f.bead, f.message) for f in _find(pair, findings[mode], ("mistranslation",), zh, en)]
    f = hits[0]
    assert f.src_spans and f.tgt_spans  # a counterpart in the Chinese, the garbled words in the English
    if signal == "repetition":
        assert f.severity == "major" and zh in f.message  # the displaced word is named


@pytest.mark.slow
def test_misreading_and_repetition_are_not_reported_on_faithful_renderings():
    zh = "在充分尊重非洲国家意愿和循序渐进基础上，继续探讨开展在非三方合作。"
    wrong = ("On the basis of full respect for the will of the African countries and gradual and orderly progress, "
             "continue to explore non-tripartite cooperation.")
    right = ("On the basis of full respect for the will of the African countries and gradual and orderly progress, "
             "continue to explore trilateral cooperation in Africa.")
    fs = audit(pair_from_lines("t", [zh], [wrong], [((0,), (0,))]), checks=["garble"])
    assert [(f.src_text, f.tgt_text) for f in fs] == [("非", "non-tripartite")]
    assert audit(pair_from_lines("t", [zh], [right], [((0,), (0,))]), checks=["garble"]) == []
    zh = "支持建立拥有完全主权的、独立、具有发展前景的巴勒斯坦国。"
    fs = audit(pair_from_lines("t", [zh], ["supports a completely independent, independent and promising "
                                           "Palestinian state."], [((0,), (0,))]), checks=["garble"])
    assert [(f.src_text, f.tgt_text) for f in fs] == [("主权", "independent, independent")]
    # English doubles on purpose; the Chinese says it twice
    ok = [("双方关系越来越紧密。", "Relations grew closer and closer."),
          ("加强中共中央办公厅与俄罗斯联邦总统办公厅交往。",
           "Strengthen exchanges between the Office and the Office of the President of Russia.")]
    for z, e in ok:
        assert not [f for f in audit(pair_from_lines("t", [z], [e], [((0,), (0,))]), checks=["garble"])
                    if f.extra.get("signal") == "repetition"], e


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["encoder", "lexical"])
def test_names_lost_or_rendered_in_part(js, mode):
    pair, findings, _ = js
    fs = findings[mode]
    # 中俄《欧亚经济伙伴关系协定》 -> "Sino-Russian Economic Partnership Agreement": Eurasian is lost
    k = _bead_of(pair, "双方主张启动中俄《欧亚经济伙伴关系协定》")
    hit = [f for f in _find(pair, fs, ("omission",), "欧亚") if f.bead == k]
    assert len(hit) == 1 and "Eurasian" in hit[0].message
    # 中华人民共和国主席 俄罗斯联邦总统 -> "President of the people's president"
    k = _bead_of(pair, "中华人民共和国主席俄罗斯联邦总统")
    on_bead = [f for f in fs if f.bead == k]
    assert _find(pair, on_bead, ("omission",), "俄罗斯联邦")
    assert _find(pair, on_bead, ("entity",), "中华人民共和国", "people's")
    # 中俄百名青年互访项目 -> "100-China Youth Exchange Program": Russia is missing
    k = _bead_of(pair, "在中俄百名青年互访项目")
    assert [f for f in _find(pair, fs, ("entity",), "中俄", "100-China") if f.bead == k]
    # 中华人民共和国主席习近平 -> "President Xi Jinping" drops the country, as English does
    k = _bead_of(pair, "应俄罗斯联邦总统普京邀请")
    assert not [f for f in fs if f.bead == k]


@pytest.mark.slow
def test_sentence_drift_names_the_words_without_rendering(js):
    """根据数量对等原则相互提供到对方国家高校公费留学的名额 -> "they are provided to
    each other's universities to study abroad": the places and the funding are lost."""
    pair, findings, _ = js
    k = _bead_of(pair, "根据数量对等原则")
    hits = [f for f in findings["encoder"] if f.bead == k and f.extra.get("signal") == "drift"]
    assert len(hits) == 1
    f = hits[0]
    assert f.kind == "mistranslation" and f.mqm == MQM["mistranslation"]
    assert f.message.startswith("Only ") and "名额" in f.message and "公费" in f.message
    assert "名额" in f.src_text and "公费" in f.src_text
    assert all(0.0 < p < 0.1 for p in (f.extra["percentiles"]["sim"], f.extra["percentiles"]["zh_cov"]))


@pytest.mark.slow
def test_one_finding_per_defect(js):
    """Checks that see the same defect are merged: one accuracy finding per
    bead and Chinese span ("F. Fu Putin": wrong name, changed meaning)."""
    pair, findings, _ = js
    accuracy = [f for f in findings["encoder"] if f.kind in ("entity", "mistranslation", "omission", "addition")]
    for a in accuracy:
        for b in accuracy:
            if a is not b and a.bead == b.bead:
                assert not (set(a.src_spans) & set(b.src_spans)), (a.message, b.message)
    putin = _find(pair, findings["encoder"], ("entity", "mistranslation"), "弗·弗·普京")
    assert len(putin) == 1 and putin[0].kind == "entity" and putin[0].extra.get("also")


@pytest.mark.slow
def test_recall_on_listed_problems_of_the_joint_statement(js):
    from align.audit.gold import problem_flagged, read_problem_list

    pair, findings, _ = js
    problems = read_problem_list(JS_PROBLEMS, pair)
    majors = [p for p in problems if p.severity == "major"]
    assert len(majors) >= 30 and len(problems) >= 60
    # the list and the faithful list do not contradict each other
    assert not {p.bead for p in problems} & set(read_judged_beads(JS_FAITHFUL, pair))
    flagged = [p for p in majors if problem_flagged(p, pair, findings["encoder"])]
    assert len(flagged) / len(majors) >= JS_MIN_MAJOR_RECALL, [p.description for p in majors if p not in flagged]


def test_problem_list_format_errors_are_one_line(tmp_path):
    from align.audit.gold import read_problem_list

    pair = pair_from_lines("t", ["甲乙。"], ["A."], [((0,), (0,))])
    path = tmp_path / "problems.txt"
    path.write_text("0\t甲乙\tmajor\t甲\tA\tfine\n", encoding="utf-8")
    assert read_problem_list(path, pair)[0].zh == "甲"
    path.write_text("0\t甲乙\tsevere\t甲\tA\tbad severity\n", encoding="utf-8")
    with pytest.raises(AlignError, match="6 TAB-separated"):
        read_problem_list(path, pair)


def test_new_checks_stay_quiet_on_mac_dev():
    """The garble and name checks flag well under 1% of MAC-Dev gold beads
    (measured 0.4% and 0.15%)."""
    share = _mac_dev_share_flagged(("002", "003", "005"), ["garble", "names"])
    assert share <= 0.01, share


def _mac_dev_share_flagged(names, checks) -> float:
    """Share of the gold beads of these MAC-Dev documents with a finding of these checks."""
    if not MAC_DEV.exists():
        pytest.skip(f"{MAC_DEV} not found (shared benchmark data)")
    total = flagged = 0
    for name in names:
        pair = load_vecalign(MAC_DEV, name)
        total += len(pair.alignment.beads)
        flagged += len({f.bead for f in audit(pair, checks=checks)})
    return flagged / total


def test_number_check_reads_number_words_on_mac_dev():
    """十四五岁 ~ "fourteen or fifteen", 千万别 ~ "never": no number findings there."""
    if not MAC_DEV.exists():
        pytest.skip(f"{MAC_DEV} not found (shared benchmark data)")
    total = flagged = 0
    for name in ("002", "003", "004", "005"):
        pair = load_vecalign(MAC_DEV, name)
        total += len(pair.alignment.beads)
        flagged += len({f.bead for f in audit(pair, checks=["numbers"])})
    # measured 0.0045 (before number words were read: 0.029 on these four texts)
    assert flagged / total <= 0.012, flagged / total


# ------------------------------------------------- round 3: fragments, habits, misread meanings
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["encoder", "lexical"])
@pytest.mark.parametrize("zh_start,zh,fragment", [
    # ... a more just and rational international order. Direction development.
    ("中俄国际协作的宗旨是体现双方", "方向", "Direction development."),
    # ... transparent Asia-Pacific Summit within the framework of the East Asia Summit. Regional security architecture.
    ("以严格遵守国际法准则为基础", "亚太地区安全架构", "Regional security architecture."),
])
def test_sentence_cut_inside_a_chinese_phrase(js, mode, zh_start, zh, fragment):
    pair, findings, _ = js
    k = _bead_of(pair, zh_start)
    hits = [f for f in findings[mode] if f.bead == k and
            (f.extra.get("signal") == "fragment" or "stands alone" in str(f.extra.get("also", "")))]
    assert len(hits) == 1, [f.message for f in findings[mode] if f.bead == k]
    f = hits[0]
    assert f.kind == "mistranslation" and f.severity == "major"
    en = " ".join(pair.tgt.text[s:e] for s, e in f.tgt_spans)
    assert en.rstrip().endswith(fragment)  # the stranded words and the sentence end before them
    zh_text = " ".join(pair.src.text[s:e] for s, e in f.src_spans)
    assert any(ch in zh_text for ch in zh)  # the Chinese phrase that was cut
    assert fragment in f.message


def test_sentence_split_at_a_clause_boundary_is_not_a_fragment():
    """A translator may end a sentence where the Chinese has a comma; not inside a phrase."""
    zh = "推动国际关系民主化，推动国际秩序朝更加公正合理的方向发展。"
    cut = ["Promote the democratization of international relations and a more just and rational international order.",
           "Direction development."]
    split = ["Promote the democratization of international relations.",
             "Promote a more just and rational international order."]
    fs = audit(pair_from_lines("t", [zh], cut, [((0,), (0, 1))]), checks=["fragments"])
    assert [(f.kind, f.tgt_text.split()[-2:]) for f in fs] == [("mistranslation", ["Direction", "development."])]
    assert "方向" in fs[0].src_text
    assert audit(pair_from_lines("t", [zh], split, [((0,), (0, 1))]), checks=["fragments"]) == []


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["encoder", "lexical"])
def test_habitual_word_lost_at_the_head_of_its_phrase(js, mode):
    """坚实的世代友好民意基础 -> "a solid generation of friendly and public opinion":
    基础 is "basis" in all its other occurrences; here the phrase lost its head."""
    pair, findings, _ = js
    k = _bead_of(pair, "-坚实的世代友好民意基础")
    hits = [f for f in findings[mode] if f.bead == k]
    assert len(hits) == 1
    f = hits[0]
    assert f.kind == "omission" and f.severity == "major" and f.src_text == "基础"
    assert "basis" in f.message
    (es, ee), = f.tgt_spans  # where the head belongs: after the rendering of 民意
    assert pair.tgt.text[es:ee] == "opinion"
    # the habit check says nothing about the beads a reviewer judged faithful
    faithful = set(read_judged_beads(JS_FAITHFUL, pair))
    assert not [f for f in findings[mode] if f.bead in faithful and f.extra.get("where") == "head-word"]


def test_habit_needs_the_word_rendered_everywhere_else():
    from align.audit.habits import HabitCheck

    zh = ["双方在平等基础上合作。", "这是合作的基础。", "友好是关系的基础。", "双方巩固合作基础。", "巩固坚实的民意基础。"]
    en = ["The two sides cooperate on the basis of equality.", "This is the basis of cooperation.",
          "Friendship is the basis of relations.", "The two sides consolidate the basis for cooperation.",
          "Consolidate a solid public opinion."]
    beads = [((i,), (i,)) for i in range(5)]
    fs = audit(pair_from_lines("t", zh, en, beads), checks=[HabitCheck(min_seen=3)])
    assert [(f.kind, f.bead, f.src_text, f.tgt_text) for f in fs] == [("omission", 4, "基础", "opinion")]
    en[1] = "This is what cooperation rests on."  # one occurrence without the word: no habit
    assert audit(pair_from_lines("t", zh, en, beads), checks=[HabitCheck(min_seen=3)]) == []


@pytest.mark.slow
def test_character_read_on_its_own_with_the_encoder(js):
    """促进多极平衡世界的形成 -> "a highly balanced world": 多极 is "multi-polar"
    in the document's two other occurrences; "highly" renders 极 ("extremely")."""
    pair, findings, _ = js
    k = _bead_of(pair, "（十二）同上海合作组织各成员国")
    hits = _find(pair, [f for f in findings["encoder"] if f.bead == k], ("mistranslation",), "多极", "highly")
    assert len(hits) == 1
    f = hits[0]
    assert f.extra["reading"] == "extremely" and "multi-polar" in f.message and "极" in f.message
    faithful = set(read_judged_beads(JS_FAITHFUL, pair))
    assert not [f for f in findings["encoder"] if f.bead in faithful and f.extra.get("reading")]


def test_fragment_and_habit_checks_stay_quiet_on_mac_dev():
    """Calibrated to at most 0.1% and 0.5% of MAC-Dev gold beads (measured 0.08% and 0.45% on all six
    texts with the encoder); without it the habit check needs more occurrences."""
    share = _mac_dev_share_flagged(("001", "002", "004"), ["fragments", "habits"])
    assert share <= 0.01, share
