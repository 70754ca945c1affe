"""The nlp library: relevance rules, normalisation, segmentation, misinformation evidence and
the one-off `classify`."""

from pathlib import Path

import pytest

import nlp
from nlp import Debunk, Fact, KeywordRules
from nlp.misinfo import assess, debunk_reasons, extract_claims, fact_reasons

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
DEPOSITS = Debunk(
    claim="临江县统计局要求每户上报存款和房产信息，不报就罚款",
    rebuttal="经济普查不采集居民存款、房产等财产信息。",
    source="临江县统计局辟谣声明",
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
    ],
)
def test_normalise_folds_width_script_and_whitespace(raw: str, expected: str) -> None:
    assert nlp.normalise(raw) == expected


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
        "临江县2025年地区生产总值同比增长5.9%",
        "临江县2025年GDP增长5.8个百分点",
    ],
)
def test_claim_matching_the_bulletin_within_rounding_does_not_contradict(text: str) -> None:
    assert fact_reasons(text, [GDP]) == []


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

    assert extract_claims(text, GDP) == []


def test_amount_in_another_unit_kind_does_not_contradict_a_percentage() -> None:
    # 286.4亿元 is the level of GDP, not its growth rate.
    assert fact_reasons("临江县2025年地区生产总值286.4亿元", [GDP]) == []


@pytest.mark.parametrize(
    "text",
    ["临江县2025年常住人口52.3万人", "临江县2025年常住人口523000人", "临江县常住人口0.00523亿"],
)
def test_population_in_different_units_agrees_with_the_fact(text: str) -> None:
    assert len(extract_claims(text, POPULATION)) == 1
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


# --- misinformation: debunks and rumour cues -----------------------------------------------


def test_paraphrase_of_a_debunked_rumour_matches_it() -> None:
    reasons = debunk_reasons("听说临江统计局让每家每户上报存款房产，不报要罚款！", [DEPOSITS])

    assert [r.kind for r in reasons] == ["matches_debunk"]
    assert DEPOSITS.claim in reasons[0].detail
    assert reasons[0].evidence == f"{DEPOSITS.source}：{DEPOSITS.rebuttal}"


def test_unrelated_sentence_does_not_match_a_debunk() -> None:
    assert debunk_reasons("今天天气晴朗，适合全家出门散步。", [DEPOSITS]) == []


def test_one_rumour_cue_is_a_reason_but_not_misinformation() -> None:
    misinfo, reasons = assess("网传临江县要建新的体育馆", [], [])

    assert not misinfo
    assert [r.kind for r in reasons] == ["rumor_cues"]
    assert reasons[0].evidence == "网传"


def test_three_rumour_cues_are_misinformation() -> None:
    misinfo, reasons = assess("网传内部消息，千真万确！", [], [])

    assert misinfo
    assert [r.kind for r in reasons] == ["rumor_cues"]
    assert set(reasons[0].evidence.split("、")) == {"网传", "内部消息", "千真万确"}


def test_a_cue_inside_a_longer_cue_is_counted_once() -> None:
    misinfo, reasons = assess("网传，紧急扩散", [], [])

    assert not misinfo
    assert reasons[0].evidence == "网传、紧急扩散"


def test_a_contradicted_fact_alone_is_misinformation() -> None:
    misinfo, reasons = assess("临江县2025年GDP增长12%", [GDP], [])

    assert misinfo
    assert [r.kind for r in reasons] == ["contradicts_fact"]


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
    assert judgement.backend == "lexicon"
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
