"""Finding and masking personal identifiers: every valid ID number, Luhn card and mobile
number is masked, statistics figures and other numbers are left alone, masking is
idempotent."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp import pii

CJK = st.sampled_from("统计局发布数据显示今年全县人口普查工作顺利完成网友称联系")
GLUE = st.sampled_from(["", "，", "：", "。", " ", "\n", "（", "）", "电话", "号码"])


def resident_id(area: int, born: date, seq: int) -> str:
    first17 = f"{area:06d}{born:%Y%m%d}{seq:03d}"
    return first17 + pii.id_check_digit(first17)


def luhn_complete(body: str) -> str:
    for check in "0123456789":
        if pii.luhn_ok(body + check):
            return body + check
    raise AssertionError("unreachable")


ids = st.builds(
    resident_id,
    st.integers(110000, 659999),
    st.dates(date(1900, 1, 1), date(2025, 12, 31)),
    st.integers(0, 999),
)
cards = st.builds(
    lambda prefix, rest: luhn_complete(prefix + rest),
    st.sampled_from(["62", "4", "51", "35"]),
    st.integers(13, 16).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n)),
).filter(lambda c: 16 <= len(c) <= 19 and not pii.is_resident_id(c))
mobiles = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text("0123456789", min_size=9, max_size=9),
)
# No unit characters (元, 人, 万…): a number followed by a unit is a figure, by design.
prose = st.text(alphabet=st.sampled_from("统计局发布数据显示今年口普查，。年月日"), max_size=20)


def spaced(card: str) -> str:
    return " ".join(card[i : i + 4] for i in range(0, len(card), 4))


def test_examples_are_masked_in_a_recognisable_way():
    pid = resident_id(110101, date(1990, 3, 7), 123)
    card = luhn_complete("622202123456789012")
    text = (
        f"身份证{pid}，手机13812345678，+86 139-1234-5678，座机0571-88886666转123，"
        f"（010）62345678，卡号{spaced(card)}，邮箱zhang.san@example.com"
    )
    masked = pii.mask(text)
    assert f"110101********{pid[-4:]}" in masked
    assert "138****5678" in masked and "+86 139-****-5678" in masked
    assert "0571-****6666转123" in masked and "（010）****5678" in masked
    assert f"6222 **** **** ***{card[-4]} {card[-3:]}" in masked
    assert "z***@example.com" in masked
    assert [i.kind for i in pii.find(text)] == [
        "id_card", "mobile", "mobile", "landline", "landline", "bank_card", "email"
    ]  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        "2025年GDP 12345678亿元，增长5.8%",
        "临江县2025年地区生产总值为23456789012345678元",  # 17 digits and a unit
        "发布时间2025-01-02 08:00，文号2025011200001",
        "一个不合校验的号码110101199003071234",  # wrong GB 11643 check digit
        "身份证号110101199002301235",  # 30 February
        "订单号6222021234567890123失败",  # fails Luhn
        "编号23812345678，另有12812345678",  # 11 digits, not 1[3-9]
        "全县常住人口13912345678人",  # a figure with a unit is not a phone
        "增长率为0.13812345678",
        "网址 https://example.cn/a/13812345678abc",
    ],
)
def test_figures_dates_and_numbers_failing_their_checks_are_left_alone(text):
    assert pii.mask(text) == text


@settings(max_examples=150, deadline=None)
@given(ids, GLUE, GLUE, prose)
def test_every_valid_resident_id_is_masked(pid, before, after, rest):
    masked = pii.mask(f"{rest}{before}{pid}{after}{rest}")
    assert pid not in masked
    assert f"{pid[:6]}********{pid[-4:]}" in masked


@settings(max_examples=150, deadline=None)
@given(cards, st.booleans(), GLUE, prose)
def test_every_luhn_valid_card_number_is_masked(card, with_spaces, glue, rest):
    written = spaced(card) if with_spaces else card
    masked = pii.mask(f"{rest}卡号{glue}{written}{glue}{rest}")
    assert written not in masked
    assert written[:4] in masked and "****" in masked


@settings(max_examples=150, deadline=None)
@given(
    mobiles,
    st.sampled_from(["", "+86", "86", "+86 ", "86-"]),
    st.sampled_from(["", " ", "-"]),
    GLUE,
    prose,
)
def test_every_mobile_number_is_masked(mobile, prefix, sep, glue, rest):
    written = f"{prefix}{mobile[:3]}{sep}{mobile[3:7]}{sep}{mobile[7:]}"
    masked = pii.mask(f"{rest}{glue}{written}{glue}{rest}")
    assert written not in masked
    assert f"{prefix}{mobile[:3]}{sep}****{sep}{mobile[7:]}" in masked


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=CJK, min_size=1, max_size=6),
            st.integers(0, 9_999_999_999).map(str),  # at most 10 digits: no identifier
            st.sampled_from(["2025年", "5.8%", "12345678亿元", "2025-01-02", "，", "。"]),
        ),
        max_size=12,
    ).map("统".join)
)
def test_text_without_identifiers_is_unchanged(text):
    assert pii.mask(text) == text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(ids, cards, mobiles, prose, GLUE), max_size=8).map("".join))
def test_masking_is_idempotent(text):
    once = pii.mask(text)
    assert pii.mask(once) == once


def test_only_the_chosen_kinds_are_masked():
    text = "手机13812345678，邮箱a.b@example.com"
    assert pii.mask(text, ["email"]) == "手机13812345678，邮箱a***@example.com"
    with pytest.raises(ValueError, match="passport"):
        pii.mask(text, ["passport"])


def test_the_settings_offer_exactly_the_kinds_the_library_knows():
    from typing import get_args

    from responder.settings import IdentifierKind

    assert set(get_args(IdentifierKind)) == set(pii.KINDS)


# Texts made of what identifiers and their surroundings are made of, so that random texts
# often hold near-identifiers: runs of digits (full-width ones too), separators, brackets,
# "+86", area codes and prefixes, extensions, units, letters, "@" and dots.
_NEAR = st.lists(
    st.one_of(
        st.text(alphabet="0123456789", min_size=1, max_size=19),
        st.text(alphabet="１２３４５６７８９０", min_size=1, max_size=12),
        st.sampled_from([" ", "-", "+86", "86", "(", ")", "（", "）", ".", ",", "@", "转"]),
        st.sampled_from(["分机", "ext", "ext.", "X", "x", "元", "人", "%", "ab", "z.cn"]),
        st.sampled_from(["010-", "(0571)", "（021）", "0755 ", "138", "6222", "110105"]),
        # whole identifiers, as written with separators too
        ids,
        cards.map(spaced),
        mobiles.map(lambda m: f"{m[:3]}{m[3:7]} {m[7:]}"),
        st.builds(
            lambda area, first, rest: f"{area}{first}{rest}",
            st.sampled_from(["010-", "(0571)", "（021）", "0755 "]),
            st.sampled_from("23456789"),
            st.text("0123456789", min_size=6, max_size=7),
        ),
    ),
    max_size=12,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(_NEAR)
def test_the_quick_check_of_a_kind_never_skips_a_text_its_pattern_matches(text):
    # find() tries a kind's full pattern only on texts its core matches; on any text, finding
    # with the check equals finding with every pattern tried.
    for kind, (pattern, valid, _) in pii._RULES.items():
        if any(valid(m.group()) for m in pattern.finditer(text)):
            assert pii._CORES[kind].search(text), (kind, text)
