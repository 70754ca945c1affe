"""nlp.claims: reading numeric claims and attributing them to a published figure.

The facts mirror config/facts.yaml (临江县, 2025): GDP growth 5.8 %, urban per-capita disposable
income 46320 元, resident population 52.3 万人, urban surveyed unemployment 5.2 %. They are built
here so the tests do not change when the office edits its configuration.
"""

from __future__ import annotations

import math

import pytest

from nlp import Fact, normalise
from nlp.claims import Claim, claims_about
from nlp.quantities import convert_numerals
from nlp.stance import refutes

GDP = Fact(
    indicator="地区生产总值增速",
    aliases=["地区生产总值", "GDP", "经济增速", "GDP增速", "经济增长", "GDP增长", "生产总值"],
    excludes=["人均GDP", "人均地区生产总值", "人均生产总值"],
    region="临江县",
    period="2025年",
    value=5.8,
    unit="%",
    source="临江县2025年国民经济和社会发展统计公报",
)
INCOME = Fact(
    indicator="城镇居民人均可支配收入",
    aliases=["城镇居民人均收入", "城镇人均可支配收入", "城镇居民收入", "城镇人均收入"],
    excludes=["中位数", "农村居民", "全体居民"],
    region="临江县",
    period="2025年",
    value=46320,
    unit="元",
    source="临江县2025年国民经济和社会发展统计公报",
)
POPULATION = Fact(
    indicator="常住人口",
    aliases=["常住人口总数"],
    excludes=["城镇常住人口", "户籍人口", "常住人口城镇化率"],
    region="临江县",
    period="2025年",
    value=52.3,
    unit="万人",
    source="临江县2025年国民经济和社会发展统计公报",
)
UNEMPLOYMENT = Fact(
    indicator="城镇调查失业率",
    aliases=["调查失业率", "失业率", "城镇失业率"],
    excludes=["登记失业率"],
    region="临江县",
    period="2025年",
    value=5.2,
    unit="%",
    source="临江县2025年国民经济和社会发展统计公报",
)
FACTS = {"gdp": GDP, "income": INCOME, "population": POPULATION, "unemployment": UNEMPLOYMENT}


def claims(text: str, fact: Fact) -> list[Claim]:
    """Claims of a text as the classifier sees it: normalised first."""
    return claims_about(normalise(text), fact)


def one_claim(text: str, fact: Fact) -> Claim:
    found = claims(text, fact)
    assert len(found) == 1, found
    return found[0]


# --- Chinese numerals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fact", "written", "low", "high"),
    [
        ("我县GDP增长百分之十二", "gdp", "12%", 11.5, 12.5),
        ("临江县失业率百分之五点二", "unemployment", "5.2%", 5.15, 5.25),
        ("临江县失业率五点二%", "unemployment", "5.2%", 5.15, 5.25),
        ("临江县城镇居民人均收入四万一千元", "income", "41000元", 40500, 41500),
        ("临江县城镇居民人均收入四万六千三百二十元", "income", "46320元", 46315, 46325),
        ("临江县城镇居民人均收入三万五", "income", "35000", 34500, 35500),
        ("临江县常住人口五十万零两千人", "population", "502000人", 501500, 502500),
        ("临江县常住人口五十二万三千人", "population", "523000人", 522500, 523500),
        # 四十五万 keeps its 万: 45万 stated to the 万, not 450000 stated to the unit.
        ("临江县常住人口四十五万", "population", "45万", 445000, 455000),
    ],
)
def test_chinese_numerals_are_read_as_values(
    text: str, fact: str, written: str, low: float, high: float
) -> None:
    quantity = one_claim(text, FACTS[fact]).quantity

    assert quantity.written == written
    assert quantity.low == pytest.approx(low)
    assert quantity.high == pytest.approx(high)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("增长百分之十二", "增长12%"),
        ("四万一千元", "41000元"),
        ("五十万零两千人", "502000人"),
        ("常住人口四十五万", "常住人口45万"),
        ("收入三万五", "收入35000"),
        ("百分之零点五", "0.5%"),
        ("一千二百亿元", "1200亿元"),
    ],
)
def test_numeral_conversion_in_context(text: str, expected: str) -> None:
    assert convert_numerals(text) == expected


@pytest.mark.parametrize(
    "text",
    ["一季度GDP增长", "十三五期间年均增长", "十年前", "第一名", "一个", "万人空巷", "二〇二五年"],
)
def test_numerals_in_words_are_left_alone(text: str) -> None:
    assert convert_numerals(text) == text


def test_a_quarter_in_words_stays_a_period_and_only_the_value_is_converted() -> None:
    assert convert_numerals("一季度增长百分之五") == "一季度增长5%"


@pytest.mark.parametrize(
    ("text", "fact", "contradicts"),
    [
        ("臨江縣2025年ＧＤＰ增長５．９％", "gdp", True),
        ("臨江縣2025年ＧＤＰ增長５．８％", "gdp", False),
        ("临江县常住人口５２．３万人", "population", False),
        ("临江县城镇居民人均收入４６２３０元", "income", True),
    ],
)
def test_full_width_and_traditional_digits_are_read_after_normalise(
    text: str, fact: str, contradicts: bool
) -> None:
    assert one_claim(text, FACTS[fact]).contradicts is contradicts


# --- precision: what an exact number allows ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fact", "contradicts"),
    [
        # GDP 5.8 %: a stated tenth allows ±0.05, a whole percent ±0.5.
        ("临江县GDP增长5.8%", "gdp", False),
        ("临江县GDP增长5.80%", "gdp", False),
        ("临江县GDP增长5.9%", "gdp", True),
        ("临江县GDP增长5.7%", "gdp", True),
        ("临江县GDP增长5.85%", "gdp", True),
        ("临江县GDP增长6%", "gdp", False),
        ("临江县GDP增长百分之六", "gdp", False),
        ("临江县GDP增长7%", "gdp", True),
        ("临江县GDP增长5.8个百分点", "gdp", False),
        # population 52.3 万人
        ("临江县常住人口52万", "population", False),
        ("临江县常住人口53万", "population", True),
        ("临江县常住人口52.3万人", "population", False),
        ("临江县常住人口53.2万人", "population", True),
        ("临江县常住人口523000人", "population", False),
        ("临江县常住人口520500人", "population", True),
        ("临江县常住人口0.00523亿", "population", False),
        # income 46320 元
        ("临江县城镇居民人均收入46320元", "income", False),
        ("临江县城镇居民人均收入46,320元", "income", False),
        ("临江县城镇居民人均收入4.63万元", "income", False),
        ("临江县城镇居民人均收入4.6万元", "income", False),
        ("临江县城镇居民人均收入46230元", "income", True),
        ("临江县城镇居民人均收入4.7万元", "income", True),
        # unemployment 5.2 %; a rate written without a sign is a percentage
        ("临江县失业率5.2%", "unemployment", False),
        ("临江县失业率5.2", "unemployment", False),
        ("临江县失业率5.0%", "unemployment", True),
        ("临江县失业率5.3%", "unemployment", True),
        ("临江县失业率5%", "unemployment", False),
    ],
)
def test_exact_numbers_allow_half_a_unit_of_their_last_digit(
    text: str, fact: str, contradicts: bool
) -> None:
    assert one_claim(text, FACTS[fact]).contradicts is contradicts


def test_a_contradicting_claim_keeps_its_wording_sentence_and_indicator_name() -> None:
    claim = one_claim("临江县统计局发布公报。GDP增长12%。", GDP)

    assert claim.fact is GDP
    assert claim.name == "GDP增长"  # the longest name found
    assert claim.quantity.written == "12%"
    assert claim.quantity.percent
    assert claim.sentence == "GDP增长12%。"
    assert claim.contradicts


@pytest.mark.parametrize(
    ("text", "fact"),
    [
        ("临江县2025年地区生产总值286.4亿元", "gdp"),  # GDP's level, not its growth rate
        ("临江县城镇居民人均收入增长12%", "income"),  # the income's growth, not its level
        ("临江县常住人口城镇化率60%", "population"),
        ("临江县GDP增速是全市的2倍", "gdp"),
        ("临江县常住人口人均收入4万元", "population"),  # 元 is no head count
        ("临江县城镇居民人均收入调查覆盖3000人", "income"),  # 人 is no amount of money
        # the first figure after the name is a growth rate: the 2万元 after it is another's
        ("临江县城镇居民人均收入增长8%，农村居民人均收入2万元", "income"),
    ],
)
def test_a_figure_of_another_kind_is_not_a_claim(text: str, fact: str) -> None:
    assert claims(text, FACTS[fact]) == []


def test_a_count_of_years_before_the_value_is_skipped() -> None:
    assert one_claim("临江县GDP连续3年增长12%", GDP).quantity.written == "12%"


def test_a_figure_far_from_the_indicator_name_is_not_a_claim() -> None:
    assert claims("临江县2025年GDP的官方公布数字大家都知道，我听说邻县增长了12%", GDP) == []


# --- bounds, approximations and ranges -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fact", "low", "high", "contradicts"),
    [
        ("临江县常住人口突破60万", "population", 600000, math.inf, True),
        ("临江县常住人口突破50万", "population", 500000, math.inf, False),
        ("临江县常住人口超过55万", "population", 550000, math.inf, True),
        ("临江县常住人口超过50万", "population", 500000, math.inf, False),
        ("临江县常住人口60万以上", "population", 600000, math.inf, True),
        ("临江县常住人口50万以上", "population", 500000, math.inf, False),
        ("临江县失业率超过8%", "unemployment", 8, math.inf, True),
        ("临江县失业率不低于5%", "unemployment", 5, math.inf, False),
        ("临江县常住人口不到40万", "population", -math.inf, 400000, True),
        ("临江县常住人口不到60万", "population", -math.inf, 600000, False),
        ("临江县常住人口不足50万", "population", -math.inf, 500000, True),
        ("临江县常住人口不足53万", "population", -math.inf, 530000, False),
        ("临江县常住人口50万以内", "population", -math.inf, 500000, True),
        ("临江县常住人口60万以内", "population", -math.inf, 600000, False),
        ("临江县失业率不到5%", "unemployment", -math.inf, 5, True),
        # 多/出头: above the number, below the next step of its last digit
        ("临江县城镇居民人均收入四万多元", "income", 40000, 50000, False),
        ("临江县城镇居民人均收入三万多元", "income", 30000, 40000, True),
        ("临江县城镇居民人均收入5万多", "income", 50000, 60000, True),
        ("临江县常住人口50多万", "population", 500000, 600000, False),
        ("临江县常住人口40多万", "population", 400000, 500000, True),
        ("临江县常住人口52万出头", "population", 520000, 530000, False),
        ("临江县常住人口53万出头", "population", 530000, 540000, True),
        ("临江县城镇居民人均收入4万出头", "income", 40000, 50000, False),
        # 接近: just under the number
        ("临江县常住人口接近53万", "population", 520000, 530000, False),
        ("临江县常住人口接近52万", "population", 510000, 520000, True),
        ("临江县常住人口将近60万", "population", 500000, 600000, False),
        # 约/左右: a whole unit of the last digit either way
        ("临江县城镇居民人均收入约4.6万元", "income", 45000, 47000, False),
        ("临江县城镇居民人均收入约4.8万元", "income", 47000, 49000, True),
        ("临江县常住人口52万左右", "population", 510000, 530000, False),
        ("临江县常住人口54万左右", "population", 530000, 550000, True),
        ("临江县GDP增长百分之五点八左右", "gdp", 5.7, 5.9, False),
        # 一点几: anything from one to two
        ("临江县GDP增长一点几%", "gdp", 1, 2, True),
        ("临江县GDP增长五点几%", "gdp", 5, 6, False),
        ("临江县GDP增长百分之五点几", "gdp", 5, 6, False),
    ],
)
def test_bounds_and_approximations_widen_the_range_allowed(
    text: str, fact: str, low: float, high: float, contradicts: bool
) -> None:
    claim = one_claim(text, FACTS[fact])

    assert claim.quantity.low == pytest.approx(low)
    assert claim.quantity.high == pytest.approx(high)
    assert claim.contradicts is contradicts


# --- region --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "临江县GDP增长12%",
        "临江GDP增长12%",
        "我县GDP增长12%",
        "全县GDP增长12%",
        "县里GDP增长12%",
        "GDP增长12%，临江县第一",  # named after the figure
        "双桥县统计局发布公报。我县GDP增长12%。",  # the sentence's own region wins
    ],
)
def test_our_region_by_name_short_form_or_deixis(text: str) -> None:
    assert one_claim(text, GDP).contradicts


@pytest.mark.parametrize(
    "text",
    [
        "双桥县GDP增长12%",
        "隔壁双桥县GDP增长12%",
        "邻县GDP增长12%",
        "城关镇GDP增长12%",
        "临江县城关镇GDP增长12%",
        "开发区GDP增长12%",
        "临江县开发区GDP增长12%",
        "全市GDP增长12%",
        "我县公报说，全市GDP增长12%",  # the city named nearest before the figure
        "江州市GDP增长12%",
        "GDP增长12%",  # no region at all
    ],
)
def test_another_county_town_zone_or_city_is_not_ours(text: str) -> None:
    assert claims(text, GDP) == []


@pytest.mark.parametrize(
    ("text", "ours"),
    [
        ("临江县统计局发布公报。GDP增长12%。", True),
        ("临江县统计局发布公报。今天天气不错。GDP增长12%。", True),
        ("双桥县统计局发布公报。GDP增长12%。", False),
        ("临江县统计局发布公报。双桥县也发了。GDP增长12%。", False),
        ("临江县统计局发布公报。全市GDP增长12%。", False),  # its own region wins
    ],
)
def test_a_region_named_in_an_earlier_sentence_carries_over(text: str, ours: bool) -> None:
    assert bool(claims(text, GDP)) is ours


@pytest.mark.parametrize(
    "text", ["双桥县GDP增长8%，临江县GDP增长12%", "临江县GDP增长12%，双桥县GDP增长8%"]
)
def test_each_mention_takes_the_region_named_nearest_before_it(text: str) -> None:
    assert one_claim(text, GDP).quantity.written == "12%"


# --- period --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "临江县2025年GDP增长12%",
        "临江县去年GDP增长12%",
        "临江去年GDP增长12%",
        "临江县GDP增长12%",
        "临江县2025年GDP增长12%，比2024年高",
    ],
)
def test_the_bulletin_year_last_year_or_no_year_is_the_annual_figure(text: str) -> None:
    assert one_claim(text, GDP).contradicts


@pytest.mark.parametrize(
    "text",
    [
        "临江县2024年GDP增长12%",
        "临江县今年GDP增长12%",
        "临江县一季度GDP增长12%",
        "临江县2025年一季度GDP增长12%",
        "临江县前三季度GDP增长12%",
        "临江县上半年GDP增长12%",
        "临江县2025年12月GDP增长12%",
        "临江县1-9月GDP增长12%",
        "临江县GDP年均增长12%",
        "临江县十三五期间GDP年均增长12%",
        "临江县十四五规划GDP增长12%",
        "临江县GDP预计增长12%",
    ],
)
def test_another_year_or_part_of_a_year_is_not_the_annual_figure(text: str) -> None:
    assert claims(text, GDP) == []


# --- related indicators (Fact.excludes) ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fact"),
    [
        ("临江县城镇登记失业率8%", "unemployment"),
        ("临江县登记失业率8%", "unemployment"),
        ("临江县城镇居民人均可支配收入中位数4.1万元", "income"),
        ("临江县全体居民人均可支配收入3.2万元", "income"),
        ("临江县农村居民人均可支配收入2万元", "income"),
        ("临江县户籍人口60万", "population"),
        ("临江县城镇常住人口30万", "population"),
        ("临江县人均GDP增长12%", "gdp"),
    ],
)
def test_a_figure_of_an_excluded_related_indicator_is_not_a_claim(text: str, fact: str) -> None:
    assert claims(text, FACTS[fact]) == []


@pytest.mark.parametrize(
    ("text", "fact", "written", "contradicts"),
    [
        ("临江县城镇登记失业率3%，调查失业率8%", "unemployment", "8%", True),
        ("临江县户籍人口60万，常住人口48万", "population", "48万", True),
        ("临江县户籍人口60万，常住人口52.3万", "population", "52.3万", False),
    ],
)
def test_the_indicator_itself_is_still_read_next_to_an_excluded_one(
    text: str, fact: str, written: str, contradicts: bool
) -> None:
    claim = one_claim(text, FACTS[fact])

    assert claim.quantity.written == written
    assert claim.contradicts is contradicts


# --- assertion: refutations and questions --------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "谣言：临江县GDP增长12%",
        "网传临江县GDP增长12%，经核实不实",
        "临江县GDP增长12%，纯属谣言",
        "临江县GDP增长12%，这说法不属实",
        "有人冒充统计局说临江县GDP增长12%",
        "骗子说临江县GDP增长12%",
        "统计局回应临江县GDP增长12%的说法",
    ],
)
def test_a_refutation_keeps_the_figure_it_quotes_as_refuted(text: str) -> None:
    assert refutes(normalise(text))
    assert [c.stance for c in claims(text, GDP)] == ["refutes"]


@pytest.mark.parametrize(
    "text",
    [
        "临江县GDP增长12%吗？",
        "临江县GDP真的增长12%吗？",
        "临江县GDP增长12%，是真的吗？",
        "临江县GDP增长12%，真的假的？",
        "临江县GDP增长12%是不是真的？",
        "临江县GDP增长12%，靠谱吗？",
    ],
)
def test_a_question_asks_about_the_figure_rather_than_asserting_it(text: str) -> None:
    assert [c.stance for c in claims(text, GDP)] == ["questions"]


@pytest.mark.parametrize(
    "text",
    [
        "临江县GDP增长12%，谁信？",  # rhetorical: the writer states the figure and scoffs
        "临江县GDP增长12%，这不是谣言",  # "not a rumour" confirms, it does not refute
    ],
)
def test_a_rhetorical_question_or_a_denied_refutation_still_asserts(text: str) -> None:
    assert not refutes(normalise(text))
    claim = one_claim(text, GDP)
    assert claim.contradicts
    assert claim.stance == "asserts"


# --- several indicators in one sentence ----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "临江县GDP增长5.8%，失业率8%，常住人口60万",
        "临江县失业率8%，常住人口60万，GDP增长5.8%",
    ],
)
def test_each_number_is_attributed_to_its_own_indicator(text: str) -> None:
    gdp = one_claim(text, GDP)
    unemployment = one_claim(text, UNEMPLOYMENT)
    population = one_claim(text, POPULATION)

    assert (gdp.quantity.written, gdp.contradicts) == ("5.8%", False)
    assert (unemployment.quantity.written, unemployment.contradicts) == ("8%", True)
    assert (population.quantity.written, population.contradicts) == ("60万", True)
    assert claims(text, INCOME) == []


# --- known limitations, and bugs fixed since ---------------------------------------------


def test_tens_of_wan_with_duo_are_read() -> None:
    claim = one_claim("临江县常住人口六十多万", POPULATION)

    assert (claim.quantity.low, claim.quantity.high) == (600000, 700000)
    assert claim.contradicts


def test_a_decimal_chinese_numeral_with_wan_is_read() -> None:
    claim = one_claim("临江县常住人口四十八点五万", POPULATION)

    assert claim.quantity.low == pytest.approx(484500)
    assert claim.contradicts


@pytest.mark.parametrize(
    ("words", "digits"), [("十二", "12"), ("一点几", "1.几")], ids=["shi-er", "yi-dian-ji"]
)
def test_a_chinese_numeral_before_percentage_points_reads_like_digits(
    words: str, digits: str
) -> None:
    in_words = claims(f"临江县GDP增长{words}个百分点", GDP)
    in_digits = claims(f"临江县GDP增长{digits}个百分点", GDP)

    assert len(in_digits) == 1
    assert [(c.quantity.low, c.quantity.high) for c in in_words] == [
        (c.quantity.low, c.quantity.high) for c in in_digits
    ]


def test_digits_with_dian_ji_allow_the_whole_unit() -> None:
    claim = one_claim("临江县GDP增长5点几%", GDP)

    assert (claim.quantity.low, claim.quantity.high) == (5, 6)
    assert not claim.contradicts


@pytest.mark.xfail(
    reason="an approximate range 四五万 (40,000-50,000) is converted to 45万 (450,000)",
    strict=True,
)
def test_an_approximate_range_in_words_is_not_read_as_one_number() -> None:
    assert not any(c.contradicts for c in claims("临江县城镇居民人均收入四五万元", INCOME))


@pytest.mark.parametrize(
    "text", ["临江县常住人口五十二万三千", "临江县常住人口523000"], ids=["words", "digits"]
)
def test_a_bare_head_count_is_not_scaled_by_the_facts_unit(text: str) -> None:
    assert not any(c.contradicts for c in claims(text, POPULATION))


@pytest.mark.xfail(
    reason="with 分别为 the first number after each name is taken, so 失业率 gets GDP's 5.8%",
    strict=True,
)
def test_respectively_pairs_names_and_numbers_in_order() -> None:
    text = "临江县GDP和失业率分别为5.8%和5.2%"

    assert not any(c.contradicts for c in claims(text, UNEMPLOYMENT))


@pytest.mark.parametrize(
    ("text", "fact"),
    [("临江县常住人口减少了1万人", "population"), ("临江县城镇居民人均收入增加了2500元", "income")],
    ids=["population-fell", "income-rose"],
)
def test_a_change_is_not_the_level(text: str, fact: str) -> None:
    assert not any(c.contradicts for c in claims(text, FACTS[fact]))


def test_a_question_in_the_next_sentence_asks_about_the_figure() -> None:
    assert [c.stance for c in claims("听说临江县GDP增长12%。真的假的？", GDP)] == ["questions"]


# --- units and kinds -----------------------------------------------------------------------

POPULATION_BY_OLD_ALIAS = POPULATION.model_copy(update={"aliases": ["常住人口总数", "人口"]})


@pytest.mark.parametrize(
    "text",
    [
        "网传临江县普查的人口信息被人以3万元打包卖了",
        "听说临江县人口数据卖了3万块",
        "临江县人口信息3万多元就能买到",
        "临江县人口普查补贴3万块钱",
        "临江县人口普查登记了3万户",
    ],
)
def test_a_price_or_a_count_of_households_is_never_a_population(text: str) -> None:
    assert claims(text, POPULATION_BY_OLD_ALIAS) == []


@pytest.mark.parametrize(
    ("text", "fact", "kind"),
    [
        ("临江县常住人口才48万", "population", "people"),
        ("临江县常住人口48万人", "population", "people"),
        ("临江县城镇居民人均收入3.5万", "income", "money"),
        ("临江县城镇居民人均收入3万多元", "income", "money"),
        ("临江县失业率8", "unemployment", "percent"),
    ],
)
def test_a_figure_takes_its_kind_from_its_unit_or_its_indicator(
    text: str, fact: str, kind: str
) -> None:
    claim = one_claim(text, FACTS[fact])
    assert claim.quantity.kind == kind == FACTS[fact].kind


@pytest.mark.parametrize(
    ("text", "fact", "shown"),
    [
        ("临江县常住人口才48万", "population", "48万人"),
        ("临江县城镇居民人均收入3.5万", "income", "3.5万元"),
        ("临江县失业率8", "unemployment", "8%"),
        ("临江县GDP增长12%", "gdp", "12%"),
    ],
)
def test_a_figure_is_shown_with_the_unit_of_its_kind(text: str, fact: str, shown: str) -> None:
    assert one_claim(text, FACTS[fact]).quantity.shown(FACTS[fact]) == shown


# --- periods -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "period",
    [2025, "2025", "2025年", "2025年全年", "2025年度", "2025全年", " 2025 年 ", "2025年1-12月"],
)
def test_the_common_ways_to_write_a_year_read_alike(period: object) -> None:
    fact = GDP.model_copy(update={"period": "2025年"})
    written = Fact(**{**GDP.model_dump(), "period": period})
    assert written.period == fact.period == "2025年"
    assert one_claim("临江县2025年GDP增长12%", written).contradicts


@pytest.mark.parametrize(
    ("period", "canonical"),
    [
        ("2025年1-9月", "2025年1-9月"),
        ("2025年1—9月", "2025年1-9月"),
        ("2025年1至9月", "2025年1-9月"),
        ("2025年前三季度", "2025年前三季度"),
        ("2025年上半年", "2025年上半年"),
        ("2025年第一季度", "2025年一季度"),
        ("2025年1季度", "2025年一季度"),
    ],
)
def test_a_part_of_a_year_reads_alike_however_written(period: str, canonical: str) -> None:
    assert Fact(**{**GDP.model_dump(), "period": period}).period == canonical


@pytest.mark.parametrize("period", ["去年", "2025-2026", "二〇二五年", "2025年13月", "", True])
def test_a_period_that_is_no_year_is_refused(period: object) -> None:
    with pytest.raises(ValueError, match="period"):
        Fact(**{**GDP.model_dump(), "period": period})


def test_a_figure_for_part_of_a_year_is_compared_only_when_that_part_is_named() -> None:
    nine_months = Fact(**{**GDP.model_dump(), "period": "2025年1-9月"})
    assert one_claim("临江县2025年1-9月GDP增长12%", nine_months).contradicts
    assert one_claim("临江县2025年前三季度GDP增长12%", nine_months).contradicts
    assert claims("临江县2025年GDP增长12%", nine_months) == []
    assert claims("临江县2025年1-6月GDP增长12%", nine_months) == []
