"""The nlp library: relevance rules, normalisation, segmentation, misinformation evidence and
the one-off `classify`."""

from pathlib import Path

import pytest

import nlp
from nlp import Debunk, Fact, KeywordRules, normalise
from nlp.claims import claims_about
from nlp.misinfo import (
    STRONG_RUMOR_SCORE,
    RumorVerdict,
    assess,
    debunk_reasons,
    fact_reasons,
    rumor_cue_reason,
)
from nlp.training import train

RULES = KeywordRules(
    include=["统计局", "普查员"],
    exclude=["统计学专业招生"],
    near=[("临江", "调查员", 10)],
)
GDP = Fact(
    indicator="地区生产总值增速",
    aliases=["GDP", "地区生产总值"],
    region="临江县",
    period="2025年",
    value=5.8,
    unit="%",
    source="公报",
)
POPULATION = Fact(
    indicator="常住人口", region="临江县", period="2025年", value=52.3, unit="万人", source="公报"
)
INCOME = Fact(
    indicator="城镇居民人均可支配收入",
    aliases=["城镇居民人均收入"],
    region="临江县",
    period="2025年",
    value=46320,
    unit="元",
    source="公报",
)
FACTS = [GDP, POPULATION, INCOME]
DEPOSITS = Debunk(
    claim="临江县统计局要求每户上报存款和房产信息，不报就罚款",
    rebuttal="经济普查不采集居民存款、房产等财产信息。",
    source="临江县统计局辟谣声明",
    keywords=[
        ["存款", "储蓄", "存折", "余额", "财产"],
        ["房产", "房子", "住房", "几套房", "不动产"],
        ["罚款", "罚钱", "处罚", "扣钱", "不报就罚"],
    ],
)
FEES = Debunk(
    claim="普查员上门要收取登记费和工本费",
    rebuttal="普查登记不收取任何费用，凡索要费用者均为冒充，请立即拨打110。",
    source="临江县统计局防骗提示",
    keywords=[
        ["普查", "登记"],
        ["登记费", "工本费", "手续费", "收费", "收取", "收钱", "交钱", "要钱", "块钱"],
    ],
)


# --- relevance -----------------------------------------------------------------------------


def test_include_word_makes_a_text_relevant() -> None:
    assert nlp.is_relevant("县统计局发布2025年统计公报", RULES)
    assert nlp.match_keywords("县统计局发布2025年统计公报", RULES) == ["统计局"]


def test_text_without_any_rule_is_not_relevant() -> None:
    assert not nlp.is_relevant("今天江边天气晴朗", RULES)
    assert nlp.match_keywords("今天江边天气晴朗", RULES) == []


def test_every_matching_include_word_is_reported() -> None:
    assert nlp.match_keywords("统计局的普查员上门登记", RULES) == ["统计局", "普查员"]


def test_exclude_word_wins_over_an_include_word() -> None:
    text = "某大学统计局合作项目：统计学专业招生简章"

    assert nlp.match_keywords(text, RULES) == ["统计局"]
    assert not nlp.is_relevant(text, RULES)


@pytest.mark.parametrize("gap", [0, 4, 8])
def test_near_rule_fires_when_words_start_within_max_chars(gap: int) -> None:
    # "临江" starts at 0, "调查员" at 2 + gap: within 10 characters up to gap 8.
    text = "临江" + "的" * gap + "调查员"

    assert nlp.match_keywords(text, RULES) == ["临江~调查员"]
    assert nlp.is_relevant(text, RULES)


@pytest.mark.parametrize("gap", [9, 30])
def test_near_rule_does_not_fire_beyond_max_chars(gap: int) -> None:
    text = "临江" + "的" * gap + "调查员"

    assert nlp.match_keywords(text, RULES) == []
    assert not nlp.is_relevant(text, RULES)


def test_near_rule_fires_whichever_word_comes_first() -> None:
    assert nlp.is_relevant("调查员今天到了临江", RULES)


def test_near_rule_uses_the_closest_pair_of_occurrences() -> None:
    text = "临江" + "的" * 30 + "调查员" + "的" * 3 + "临江"

    assert nlp.is_relevant(text, RULES)


def test_exclude_word_wins_over_a_near_rule() -> None:
    assert not nlp.is_relevant("临江调查员统计学专业招生", RULES)


def test_keyword_rules_reject_a_blank_word() -> None:
    with pytest.raises(ValueError, match="empty word"):
        KeywordRules(include=["统计局", " "])


# --- normalise -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("統計局", "统计局"),
        ("臨江縣統計公報", "临江县统计公报"),
        ("ＧＤＰ１２％", "GDP12%"),
        ("ＧＤＰ增長１２％", "GDP增长12%"),
        ("  临江县\u3000统计局\n\n公报 ", "临江县 统计局 公报"),
        # Emoji carry the sentiment of the Weibo codes they become; others are kept.
        ("又被平均了😭😭", "又被平均了[泪][泪]"),
        ("统计局回复很快👍❤️", "统计局回复很快[赞][心]"),
        ("气死😡 [怒]", "气死[怒] [怒]"),
        ("看看🌟", "看看🌟"),
        # Text without traditional characters is left as it is (conversion is skipped).
        ("干部说不干了", "干部说不干了"),
    ],
)
def test_normalise_folds_width_script_and_whitespace(raw: str, expected: str) -> None:
    assert nlp.normalise(raw) == expected


def test_normalise_can_keep_lines_and_drops_empty_ones() -> None:
    raw = "  臨江縣\u3000統計局 \n\n\u3000\n 公报  发布 \r\n😭"
    assert nlp.normalise(raw, keep_lines=True) == "临江县 统计局\n公报 发布\n[泪]"


def test_normalise_leaves_simplified_half_width_text_alone() -> None:
    text = "临江县2025年GDP增长5.8%"

    assert nlp.normalise(text) == text


# --- Segmenter -----------------------------------------------------------------------------

TEXT = "临江县统计局发布公报，临江县统计局表示普查数据真实可靠，普查员入户登记普查。"


@pytest.fixture(scope="module")
def userdict(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "userdict.txt"
    path.write_text("临江县统计局 20000 nt\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def segmenter(userdict: Path) -> nlp.Segmenter:
    # One jieba dictionary load (about a second) shared by the tests that only read it.
    return nlp.Segmenter(userdict)


def test_user_dictionary_keeps_a_custom_word_as_one_token(userdict: Path) -> None:
    tokens = nlp.Segmenter(userdict).cut(TEXT)

    assert tokens.count("临江县统计局") == 2
    assert "统计局" not in tokens


def test_without_the_user_dictionary_the_custom_word_is_split() -> None:
    assert "临江县统计局" not in nlp.Segmenter().cut(TEXT)


def test_extra_words_are_kept_as_one_token() -> None:
    assert "入户登记" in nlp.Segmenter(extra_words=["入户登记"]).cut(TEXT)


def test_a_missing_user_dictionary_is_ignored(tmp_path: Path) -> None:
    assert nlp.Segmenter(tmp_path / "absent.txt").cut("统计局") == ["统计局"]


def test_cut_drops_whitespace_tokens(segmenter: nlp.Segmenter) -> None:
    assert segmenter.cut("临江县统计局  发布\n公报") == [
        "临江县统计局",
        "发布",
        "公报",
    ]


def test_keywords_rank_the_custom_word_among_distinctive_terms(segmenter: nlp.Segmenter) -> None:
    keywords = segmenter.keywords(TEXT, top_k=5)

    assert "临江县统计局" in keywords
    assert len(keywords) == 5
    assert "，" not in keywords


def test_keywords_ignore_the_words_passed_in_ignore(segmenter: nlp.Segmenter) -> None:
    keywords = segmenter.keywords(TEXT, top_k=5, ignore=["临江县统计局", "普查"])

    assert "临江县统计局" not in keywords
    assert "普查" not in keywords
    assert "普查员" in keywords


def test_keywords_skip_single_characters_numbers_and_stop_words(segmenter: nlp.Segmenter) -> None:
    keywords = segmenter.keywords("我们觉得2025年的临江县统计局真的很好", top_k=20)

    assert "我们" not in keywords
    assert "真的" not in keywords
    assert "2025" not in keywords
    assert all(len(word) >= 2 for word in keywords)


# --- misinformation: contradicted facts ----------------------------------------------------


def test_claim_that_differs_from_the_bulletin_contradicts_the_fact() -> None:
    reasons = fact_reasons("临江县2025年GDP增长12%", [GDP])

    assert [r.kind for r in reasons] == ["contradicts_fact"]
    assert "12%" in reasons[0].detail
    assert "5.8%" in reasons[0].detail
    assert reasons[0].evidence.startswith("公报")


@pytest.mark.parametrize(
    "text",
    [
        "临江县2025年GDP增长5.8%",
        "临江县2025年地区生产总值同比增长5.8%",
        "临江县2025年GDP增长5.8个百分点",
        "临江县2025年GDP增长6%",  # a whole percent allows 5.5 to 6.5
    ],
)
def test_claim_matching_the_bulletin_within_rounding_does_not_contradict(text: str) -> None:
    assert fact_reasons(text, [GDP]) == []


@pytest.mark.parametrize(
    "text", ["临江县2025年地区生产总值同比增长5.9%", "临江县2025年GDP增长5.7%"]
)
def test_a_near_miss_stated_to_the_tenth_contradicts_the_fact(text: str) -> None:
    assert [r.kind for r in fact_reasons(text, [GDP])] == ["contradicts_fact"]


@pytest.mark.parametrize(
    "text",
    ["江州市2025年GDP增长12%", "临江县2024年GDP增长12%"],
    ids=["another-region", "another-year"],
)
def test_claim_about_another_region_or_year_does_not_contradict(text: str) -> None:
    assert fact_reasons(text, [GDP]) == []


def test_short_region_name_and_unstated_year_still_count() -> None:
    assert len(fact_reasons("临江2025年GDP增长12%", [GDP])) == 1
    assert len(fact_reasons("听说临江县GDP增长12%", [GDP])) == 1


def test_figure_far_from_the_indicator_name_is_not_a_claim() -> None:
    text = "临江县2025年GDP的官方公布数字大家都知道，我听说邻县增长了12%"

    assert claims_about(text, GDP) == []


def test_amount_in_another_unit_kind_does_not_contradict_a_percentage() -> None:
    # 286.4亿元 is the level of GDP, not its growth rate.
    assert fact_reasons("临江县2025年地区生产总值286.4亿元", [GDP]) == []


@pytest.mark.parametrize(
    "text",
    ["临江县2025年常住人口52.3万人", "临江县2025年常住人口523000人", "临江县常住人口0.00523亿"],
)
def test_population_in_different_units_agrees_with_the_fact(text: str) -> None:
    assert len(claims_about(text, POPULATION)) == 1
    assert fact_reasons(text, [POPULATION]) == []


def test_population_that_differs_contradicts_the_fact() -> None:
    reasons = fact_reasons("临江县2025年常住人口60万人", [POPULATION])

    assert [r.kind for r in reasons] == ["contradicts_fact"]


@pytest.mark.parametrize(
    "text", ["临江县2025年城镇居民人均收入4.6万元", "临江县2025年城镇居民人均收入46,320元"]
)
def test_income_within_rounding_agrees_with_the_fact(text: str) -> None:
    assert fact_reasons(text, [INCOME]) == []


def test_income_that_differs_contradicts_the_fact() -> None:
    reasons = fact_reasons("临江县2025年城镇居民人均收入3.2万元", [INCOME])

    assert [r.kind for r in reasons] == ["contradicts_fact"]
    assert "3.2万元" in reasons[0].detail


def test_each_contradicted_fact_is_a_reason_of_its_own() -> None:
    reasons = fact_reasons("临江县GDP增长12%，常住人口60万，城镇居民人均收入46320元", FACTS)

    assert [r.kind for r in reasons] == ["contradicts_fact", "contradicts_fact"]
    assert "官方数据为5.8%" in reasons[0].detail
    assert "官方数据为52.3万人" in reasons[1].detail


def test_a_refuted_figure_stays_a_reason_that_says_so() -> None:
    reasons = fact_reasons("网传临江县GDP增长12%，经核实不实", [GDP])

    assert [r.stance for r in reasons] == ["refutes"]
    assert not reasons[0].spreads
    assert reasons[0].detail.startswith("文中引述并否定")


def test_a_questioned_figure_is_a_reason_that_asks() -> None:
    reasons = fact_reasons("看到说临江去年GDP增长12%，这是真的吗？", [GDP])

    assert [r.stance for r in reasons] == ["questions"]
    assert reasons[0].spreads
    assert reasons[0].detail.startswith("文中询问")


# --- misinformation: debunks ---------------------------------------------------------------


def test_a_debunked_claim_repeated_in_a_longer_post_matches_by_wording() -> None:
    text = "今天小区里很热闹。普查员上门要收取登记费和工本费，大家注意，别被坑了。"

    reasons = debunk_reasons(text, [FEES.model_copy(update={"keywords": []})])

    assert [r.kind for r in reasons] == ["matches_debunk"]
    assert "相似度1.00" in reasons[0].detail
    assert reasons[0].evidence == f"{FEES.source}：{FEES.rebuttal}"


def test_paraphrase_of_a_debunked_rumour_matches_it() -> None:
    reasons = debunk_reasons("听说临江统计局让每家每户上报存款房产，不报要罚款！", [DEPOSITS])

    assert [r.kind for r in reasons] == ["matches_debunk"]
    assert DEPOSITS.claim in reasons[0].detail
    assert reasons[0].evidence == f"{DEPOSITS.source}：{DEPOSITS.rebuttal}"


def test_a_paraphrase_with_synonyms_matches_by_keyword_groups_and_names_them() -> None:
    text = "统计局让大家报储蓄和几套房，不报就罚钱"

    reasons = debunk_reasons(text, [DEPOSITS])

    assert [r.kind for r in reasons] == ["matches_debunk"]
    assert "（储蓄、几套房、罚钱）" in reasons[0].detail
    assert reasons[0].detail.endswith(DEPOSITS.claim)
    # The wording alone is too far from the claim: the keyword groups found it.
    assert debunk_reasons(text, [DEPOSITS.model_copy(update={"keywords": []})]) == []


@pytest.mark.parametrize(
    ("text", "concepts"),
    [
        ("普查员上门登记，要交20块钱工本费", "普查、工本费"),
        ("普查登记要收取费用", "普查、收取"),
        ("普查员来登记了。说要交钱。", "普查、交钱"),  # two adjacent sentences
    ],
)
def test_a_word_of_every_keyword_group_in_one_window_matches(text: str, concepts: str) -> None:
    reasons = debunk_reasons(text, [FEES])

    assert [r.kind for r in reasons] == ["matches_debunk"]
    assert f"（{concepts}）" in reasons[0].detail


@pytest.mark.parametrize(
    "text",
    [
        "普查员来家里了。今天天气不错。说要交钱。",  # the groups are three sentences apart
    ],
)
def test_keyword_groups_must_all_be_found_within_two_sentences(text: str) -> None:
    assert debunk_reasons(text, [DEPOSITS, FEES]) == []


@pytest.mark.parametrize(
    "text", ["统计局要登记你家有几套房，还要问存折余额", "不报存款就罚款？统计局这是要干嘛"]
)
def test_a_rumour_of_three_parts_is_repeated_by_two_of_them(text: str) -> None:
    assert [r.stance for r in debunk_reasons(text, [DEPOSITS])] == ["asserts"]


@pytest.mark.parametrize("text", ["普查登记不收取任何费用", "普查员登记时不会收费", "普查无需交钱"])
def test_a_negated_fee_does_not_match(text: str) -> None:
    assert debunk_reasons(text, [FEES]) == []


@pytest.mark.parametrize(
    "text",
    [
        "普查员上门登记要收工本费，是真的吗？",
        "普查员上门要收取登记费和工本费吗？",
        "听说统计局要查存款和房产，不报就罚款，真的假的？",
    ],
)
def test_a_question_about_the_rumour_matches_it_as_asking(text: str) -> None:
    reasons = debunk_reasons(text, [DEPOSITS, FEES])

    assert [r.stance for r in reasons] == ["questions"]
    assert reasons[0].detail.startswith("询问已辟谣信息")


@pytest.mark.parametrize(
    "text",
    [
        "网传普查员上门要收工本费，经核实系谣言",
        "有骗子冒充普查员上门收工本费",
        "辟谣：统计局要求上报存款和房产，不报就罚款，这是假消息",
    ],
)
def test_a_refutation_of_the_rumour_matches_it_as_refuting(text: str) -> None:
    reasons = debunk_reasons(text, [DEPOSITS, FEES])

    assert reasons and {r.stance for r in reasons} == {"refutes"}


def test_unrelated_sentence_does_not_match_a_debunk() -> None:
    assert debunk_reasons("今天天气晴朗，适合全家出门散步。", [DEPOSITS, FEES]) == []


def test_a_question_in_the_next_sentence_asks_about_the_rumour() -> None:
    reasons = debunk_reasons("普查员上门登记要收工本费。是真的吗？", [FEES])

    assert [r.stance for r in reasons] == ["questions"]


def test_a_fee_stated_as_a_condition_is_not_negated() -> None:
    assert [r.kind for r in debunk_reasons("普查员说不交钱就不给登记", [FEES])] == [
        "matches_debunk"
    ]


# --- misinformation: rumour cues -----------------------------------------------------------


def test_one_rumour_cue_is_a_reason_but_not_misinformation() -> None:
    misinfo, reasons = assess("网传临江县要建新的体育馆", [], [])

    assert not misinfo
    assert [r.kind for r in reasons] == ["rumor_cues"]
    assert reasons[0].evidence == "网传"
    assert reasons[0].detail.startswith("疑似")


def test_weak_cues_below_the_strong_score_are_not_misinformation() -> None:
    # 网传, 听说 and 据说 weigh 1 each: 3 is below STRONG_RUMOR_SCORE.
    misinfo, reasons = assess("网传听说据说县里要修路", [], [])

    assert STRONG_RUMOR_SCORE == 4
    assert not misinfo
    assert set(reasons[0].evidence.split("、")) == {"网传", "听说", "据说"}


def test_cues_scoring_four_or_more_are_misinformation() -> None:
    # 网传 1 + 内部消息 2 + 千真万确 2 = 5
    misinfo, reasons = assess("网传内部消息，千真万确！", [], [])

    assert misinfo
    assert [r.kind for r in reasons] == ["rumor_cues"]
    assert reasons[0].detail.startswith("较强")
    assert set(reasons[0].evidence.split("、")) == {"网传", "内部消息", "千真万确"}


@pytest.mark.parametrize(
    ("text", "strong"), [("网传内部消息！！", True), ("网传内部消息！", False)]
)
def test_repeated_exclamation_marks_add_one(text: str, strong: bool) -> None:
    found = rumor_cue_reason(text)

    assert found is not None
    reason, is_strong = found
    assert is_strong is strong
    assert ("连续感叹号" in reason.evidence.split("、")) is strong
    assert assess(text, [], [])[0] is strong


def test_exclamation_marks_without_a_cue_are_no_reason() -> None:
    assert rumor_cue_reason("太气人了！！！") is None
    assert assess("太气人了！！！", [], []) == (False, [])


def test_a_cue_inside_a_longer_cue_is_counted_once() -> None:
    # 紧急扩散 (2) contains 扩散 (1): counted twice the score would reach 4.
    misinfo, reasons = assess("网传，紧急扩散", [], [])

    assert not misinfo
    assert set(reasons[0].evidence.split("、")) == {"网传", "紧急扩散"}


@pytest.mark.parametrize(
    "text",
    ["紧急扩散！！内部消息说普查要查存款，经核实系谣言", "内部消息，千真万确，别信"],
)
def test_strong_cues_in_a_refutation_are_not_misinformation(text: str) -> None:
    misinfo, reasons = assess(text, [], [])

    assert not misinfo
    assert [r.kind for r in reasons] == ["rumor_cues"]
    assert reasons[0].detail.startswith("疑似")


@pytest.mark.parametrize(
    "text",
    [
        # hearsay 1 + an alarming consequence 2 + a call to act 1
        "群里有人说普查登记了两套房的要补交房产税，大家提前想好",
        # hearsay 1 + consequence 2 + absolute wording 1
        "有人讲统计局下个月要清退所有乡镇统计员",
    ],
)
def test_plain_rumour_wording_about_our_work_is_misinformation(text: str) -> None:
    misinfo, reasons = assess(text, [], [])

    assert misinfo
    assert reasons[0].detail.startswith("较强")
    assert "传言称将受罚或受损" in reasons[0].evidence.split("、")


@pytest.mark.parametrize(
    "text",
    [
        "听说统计局明天开新闻发布会，讲前三季度经济运行情况",  # nothing alarming
        "群里有人说隔壁小区要停水停电，大家提前接水",  # not about the office's work
        "群里有人说普查登记完要交房产税，经核实系谣言，大家别信",  # refuted
    ],
)
def test_plain_rumour_wording_needs_alarm_our_work_and_no_rebuttal(text: str) -> None:
    assert not assess(text, [], [])[0]


def test_plain_rumour_wording_asked_about_is_only_suspected() -> None:
    # The label rules: a question about a rumour the office never refuted stays unflagged.
    misinfo, reasons = assess("听说没参加普查的人以后办不了社保卡，是真的吗？", [], [])

    assert not misinfo
    assert reasons[0].stance == "questions"
    assert reasons[0].detail.startswith("疑似")


def test_saying_it_is_not_a_rumour_does_not_refute() -> None:
    misinfo, reasons = assess("内部消息，千真万确，这不是谣言", [], [])

    assert misinfo
    assert reasons[0].detail.startswith("较强")


def test_a_contradicted_fact_alone_is_misinformation() -> None:
    misinfo, reasons = assess("临江县2025年GDP增长12%", [GDP], [])

    assert misinfo
    assert [r.kind for r in reasons] == ["contradicts_fact"]


def test_a_debunk_match_alone_is_misinformation() -> None:
    misinfo, reasons = assess("统计局让大家报储蓄和几套房，不报就罚钱", [], [DEPOSITS])

    assert misinfo
    assert [r.kind for r in reasons] == ["matches_debunk"]


# --- misinformation: rumour model ----------------------------------------------------------

RUMOURS = [
    "内部消息：下个月起统计局要挨家挨户查存款，赶紧转发周知",
    "紧急扩散！！普查员上门要收五百元登记费，不交就罚款",
    "知情人士透露，县里要取消所有低保，速转",
    "朋友圈都在传，下个月起统计局要查每家的房产，赶紧扩散",
    "千真万确！人口普查要收集银行卡密码，转发周知",
    "内部消息，统计局要给每户罚款两千，紧急扩散",
    "据可靠消息，普查员会拍照上传你家存款，速转告",
    "群里都在传，不配合普查就取消医保，转发周知",
    "紧急通知！！明天起统计局上门收取普查费，赶紧转告家人",
    "内部人士爆料，县里要挨家挨户查存款，不转不是临江人",
]
ORDINARY = [
    "临江县统计局发布2025年统计公报，全年经济平稳运行",
    "普查员今天上门登记，态度很好，十分钟就完成了",
    "统计局工作人员在社区开展经济普查宣传活动",
    "县统计局举办统计法宣传周活动，现场发放宣传资料",
    "临江县召开第五次经济普查工作会议",
    "统计公报显示，全县城镇居民收入稳步增长",
    "普查员入户登记时出示了工作证，很规范",
    "统计局发布一季度经济运行情况，工业生产持续回升",
    "社区组织居民参加统计知识讲座，大家反响不错",
    "县统计局开展统计数据质量检查工作",
]
# Rumour-like for the model, with only one weak cue (下个月起) for the cue lexicon.
RUMOUR_TEXT = "下个月起统计局要挨家挨户查存款和房产"
ORDINARY_TEXT = "县统计局发布统计公报，经济平稳运行"


def _train_rumour_model(out: Path, labels: tuple[object, object], field: str = "label") -> Path:
    rows = [{"text": t, field: labels[0]} for t in RUMOURS]
    rows += [{"text": t, field: labels[1]} for t in ORDINARY]
    train(rows, [field], out, holdout=0)
    return out


@pytest.fixture(scope="module")
def rumour_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _train_rumour_model(tmp_path_factory.mktemp("models") / "rumour", ("rumor", "non_rumor"))


@pytest.fixture(scope="module")
def rumour_verdict(rumour_model_dir: Path) -> RumorVerdict:
    return nlp.RumorModel.load(rumour_model_dir, threshold=0.5).assess([normalise(RUMOUR_TEXT)])[0]


def test_a_rumour_model_gives_a_rumour_like_text_a_high_probability(
    rumour_model_dir: Path,
) -> None:
    model = nlp.RumorModel.load(rumour_model_dir, threshold=0.5)
    rumour, ordinary = model.assess([normalise(RUMOUR_TEXT), normalise(ORDINARY_TEXT)])

    assert (model.field, model.positive) == ("label", "rumor")
    assert 0.5 <= rumour.probability < 1
    assert rumour.strong
    assert rumour.terms and all(term in normalise(RUMOUR_TEXT) for term in rumour.terms)
    assert ordinary.probability < 0.5
    assert not ordinary.strong
    assert ordinary.terms == ()


def test_a_rumour_verdict_is_strong_only_at_or_above_the_threshold(
    rumour_model_dir: Path, rumour_verdict: RumorVerdict
) -> None:
    p = rumour_verdict.probability  # rounded to 4 places: the true value is within 0.00005
    text = [normalise(RUMOUR_TEXT)]

    below = nlp.RumorModel.load(rumour_model_dir, threshold=p - 0.001).assess(text)[0]
    above = nlp.RumorModel.load(rumour_model_dir, threshold=p + 0.001).assess(text)[0]

    assert below.strong
    assert not above.strong
    assert below.probability == above.probability == p


def test_a_strong_rumour_verdict_makes_a_text_misinformation(
    rumour_verdict: RumorVerdict,
) -> None:
    text = normalise(RUMOUR_TEXT)
    cue = rumor_cue_reason(text)
    assert cue is not None and not cue[1]  # one weak cue (下个月起): not misinformation alone
    assert assess(text, [], []) == (False, [cue[0]])

    misinfo, reasons = assess(text, [], [], rumor=rumour_verdict)

    assert misinfo
    assert [r.kind for r in reasons] == ["rumor_cues", "rumor_cues"]
    model_reason = reasons[1]
    assert model_reason.detail.startswith("较强")
    assert f"概率为{rumour_verdict.probability:.2f}" in model_reason.detail
    assert model_reason.evidence == "、".join(rumour_verdict.terms)


def test_a_rumour_verdict_below_the_threshold_is_a_reason_but_not_misinformation() -> None:
    verdict = RumorVerdict(probability=0.7, strong=False, terms=("查存款",))

    misinfo, reasons = assess("统计局要查存款", [], [], rumor=verdict)

    assert not misinfo
    assert [(r.kind, r.evidence) for r in reasons] == [("rumor_cues", "查存款")]
    assert reasons[0].detail == "疑似：谣言识别模型判定为传言的概率为0.70"


def test_a_rumour_verdict_below_one_half_is_no_reason() -> None:
    verdict = RumorVerdict(probability=0.3, strong=False, terms=())

    assert assess("统计局要查存款", [], [], rumor=verdict) == (False, [])


def test_the_classifier_uses_its_rumour_model(rumour_model_dir: Path) -> None:
    from nlp.lexicon import LexiconBackend

    model = nlp.RumorModel.load(rumour_model_dir, threshold=0.5)
    judgement = nlp.Classifier(LexiconBackend(), rumor_model=model).classify(RUMOUR_TEXT)

    assert judgement.misinfo
    assert any("谣言识别模型" in r.detail for r in judgement.misinfo_reasons)


def test_a_boolean_misinfo_field_is_a_rumour_model(tmp_path: Path) -> None:
    path = _train_rumour_model(tmp_path / "misinfo", (True, False), field="misinfo")

    model = nlp.RumorModel.load(path, threshold=0.5)

    assert (model.field, model.positive) == ("misinfo", "true")
    assert model.assess([normalise(RUMOUR_TEXT)])[0].probability >= 0.5


def test_a_model_without_a_rumour_label_is_refused(tmp_path: Path) -> None:
    path = _train_rumour_model(tmp_path / "ab", ("a", "b"))

    with pytest.raises(nlp.ModelError, match="not two labels"):
        nlp.RumorModel.load(path)


def test_a_model_with_more_than_two_labels_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "three"
    rows = [{"text": t, "label": "rumor"} for t in RUMOURS]
    rows += [
        {"text": t, "label": "non_rumor" if i % 2 else "unverified"} for i, t in enumerate(ORDINARY)
    ]
    train(rows, ["label"], path, holdout=0)

    with pytest.raises(nlp.ModelError, match="not two labels"):
        nlp.RumorModel.load(path)


def test_a_model_without_a_label_or_misinfo_field_is_refused(tmp_path: Path) -> None:
    path = _train_rumour_model(tmp_path / "topic", ("rumor", "non_rumor"), field="topic")

    with pytest.raises(nlp.ModelError, match="no `misinfo` or `label` model"):
        nlp.RumorModel.load(path)


# --- classify ------------------------------------------------------------------------------


def test_classify_returns_a_judgement_with_known_labels() -> None:
    judgement = nlp.classify(
        "网传临江县2025年GDP增长12%，统计局数据造假，太气人了！",
        "临江统计数据造假？",
        facts=[GDP],
        rules=KeywordRules(include=["统计局"]),
    )

    assert isinstance(judgement, nlp.Judgement)
    assert judgement.sentiment in nlp.SENTIMENTS
    assert judgement.category in nlp.CATEGORIES
    assert 0 <= judgement.sentiment_score <= 1
    assert 0 <= judgement.category_score <= 1
    assert judgement.backend == "linear"
    assert judgement.keywords_matched == ["统计局"]


def test_classify_explains_misinformation_with_its_reasons() -> None:
    judgement = nlp.classify("网传临江县2025年GDP增长12%。", facts=[GDP], debunks=[DEPOSITS])

    assert judgement.misinfo
    assert [r.kind for r in judgement.misinfo_reasons] == ["contradicts_fact", "rumor_cues"]
    assert "官方数据为5.8%" in judgement.misinfo_reasons[0].detail


def test_classify_reads_traditional_full_width_claims() -> None:
    judgement = nlp.classify("臨江縣2025年ＧＤＰ增長１２％", facts=[GDP])

    assert judgement.misinfo
    assert [r.kind for r in judgement.misinfo_reasons] == ["contradicts_fact"]


def test_classify_finds_no_misinformation_in_an_accurate_report() -> None:
    judgement = nlp.classify("临江县统计局发布公报，2025年GDP增长5.8%。", facts=[GDP])

    assert not judgement.misinfo
    assert judgement.misinfo_reasons == []


def test_classify_flags_a_debunked_rumour() -> None:
    judgement = nlp.classify(
        "听说临江统计局让每家每户上报存款房产，不报要罚款！", debunks=[DEPOSITS]
    )

    assert judgement.misinfo
    assert "matches_debunk" in [r.kind for r in judgement.misinfo_reasons]


def test_classify_with_an_unknown_backend_fails() -> None:
    with pytest.raises(nlp.UnknownBackend):
        nlp.classify("统计局", backend="no-such-backend")


# --- issue 17 follow-up: questions asked in A-not-A form, answered questions, speed ------------


def test_an_a_not_a_question_about_the_fee_is_not_a_denial_of_it() -> None:
    reasons = debunk_reasons("人口普查收不收费？邻居说一户要交钱", [FEES])

    assert [r.stance for r in reasons] == ["questions"]


def test_a_question_the_text_answers_with_yes_asserts_the_rumour() -> None:
    reasons = debunk_reasons("普查登记要交手续费吗？要的，我们楼每家都交了", [FEES])

    assert [r.stance for r in reasons] == ["asserts"]


def test_a_truth_question_without_a_question_mark_asks() -> None:
    reasons = fact_reasons("有人说临江县去年GDP增长9%，这个数靠谱吗", [GDP])

    assert [r.stance for r in reasons] == ["questions"]


def test_a_rhetorical_question_after_a_figure_does_not_ask_about_it() -> None:
    reasons = fact_reasons("临江县去年GDP增长9%。大家感受到了吗？", [GDP])

    assert [r.stance for r in reasons] == ["asserts"]


def test_converting_only_the_clauses_with_traditional_characters_equals_whole_text() -> None:
    from opencc import OpenCC

    from nlp.text import _to_simplified

    whole = OpenCC("t2s")
    texts = [
        "網傳臨江縣GDP增長12%，這是真的嗎？什么情况",
        "怎么回事，普查員說要收費。顯著的變化！覆盖面",
        "乾隆年間的故事，著名的作家。他什么都不说",
        "没有任何繁体字的一句话，只是问怎么登记",
    ]
    for text in texts:
        assert _to_simplified(text) == whole.convert(text)


def test_the_classifier_lists_the_keywords_of_the_normalised_text() -> None:
    from nlp.relevance import match_keywords, matches_normalised

    rules = KeywordRules(include=["统计局", "普查"], near=[("普查", "收费", 10)])
    for text in ("統計局普查員收費", "ＧＤＰ统计局　普查要收费吗", "普查什么时候开始"):
        assert matches_normalised(normalise(text), rules) == match_keywords(text, rules)


# --- calm reports of harm are negative (nlp.harm, the corpus guideline) ---------------------


@pytest.mark.parametrize(
    "text",
    [
        "据了解，一名普查员在入户途中遭遇交通事故，已送医治疗。",
        "受台风影响，沿海三个乡镇的入户登记工作暂停。",
        "某区统计局一台存有普查数据的笔记本电脑遗失。",
        "某县三家企业虚报产值被立案查处。",
        "县统计局情况通报：经查，某镇干部授意企业虚报统计数据，已被免职。",
        "警方通报：一男子冒充普查员骗取老人现金两万元。",
    ],
)
def test_a_calm_report_of_harm_reads_as_harm(text: str) -> None:
    from nlp.harm import reported_harm

    assert reported_harm(normalise(text)) is not None


@pytest.mark.parametrize(
    "text",
    [
        "温馨提示：普查员不会索要银行卡验证码，谨防诈骗。",
        "预计本周有强降雨，请各普查员合理安排入户时间。",
        "普查终端丢失了应该向谁报告？",
        "县普查办情况通报：普查员入户时被犬只咬伤，已送医，目前无大碍。",
        "网传普查数据泄露，经核实系谣言。",
        "小区里有只猫受伤了，有人知道附近的救助站吗？",
        "市统计局开展反诈宣讲，介绍冒充普查员诈骗的常见手法。",
    ],
)
def test_warnings_questions_rebuttals_and_the_offices_own_statements_do_not(text: str) -> None:
    from nlp.harm import reported_harm

    assert reported_harm(normalise(text)) is None


def test_the_harm_reading_turns_only_a_neutral_judgement_negative() -> None:
    from nlp.harm import apply
    from nlp.types import Prediction

    text = "据了解，一名普查员在入户途中遭遇交通事故，已送医治疗。"
    neutral = Prediction("neutral", 0.7, "field_safety", 0.9, ("入户途中",))
    positive = Prediction("positive", 0.7, "field_safety", 0.9)

    turned, kept = apply([text, text], [neutral, positive])

    assert turned.sentiment == "negative" and turned.sentiment_terms[0] == "交通事故"
    assert kept == positive


def test_a_judgement_as_a_dict_is_what_asdict_gives() -> None:
    from dataclasses import asdict, fields

    from nlp.types import Judgement, MisinfoReason

    judgement = Judgement(
        "negative",
        0.9,
        "scam",
        0.8,
        True,
        [MisinfoReason("matches_debunk", "d", "e", "questions")],
        ["普查"],
        ["冒充"],
        ["假普查员"],
        "linear",
        True,
    )

    assert judgement.to_dict() == asdict(judgement)
    assert list(judgement.to_dict()) == [f.name for f in fields(Judgement)]
