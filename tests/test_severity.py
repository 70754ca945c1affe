"""Severity levels come from the office's rules, and say which rules fired."""

from __future__ import annotations

from datetime import UTC, datetime

from responder.incidents.severity import assess, level_rank
from responder.models import Judgement, Mention

NOW = datetime(2026, 11, 21, tzinfo=UTC)


def mention(
    text: str,
    outlet: str = "",
    reposts: int = 0,
    sentiment: str = "negative",
    misinfo: bool = False,
) -> Mention:
    m = Mention(
        url="http://x",
        canonical_url="http://x",
        content_hash="h",
        title="",
        text=text,
        outlet=outlet,
        author="",
        reposts=reposts,
        comments=0,
        likes=0,
        fetched_at=NOW,
    )
    m.judgements = [
        Judgement(
            sentiment=sentiment,
            sentiment_score=0.9,
            category="privacy_leak",
            category_score=0.9,
            misinfo=misinfo,
            misinfo_reasons=[],
        )
    ]
    return m


def test_a_single_personal_post_is_level_iv(settings):
    result = assess("staff_conduct", [mention("窗口态度差")], settings.severity)
    assert result.level == "IV"
    assert [f.rule for f in result.fired] == ["风险类别", "负面占比"]


def test_a_leak_reported_widely_by_provincial_media_reaches_level_ii(settings):
    posts = [mention("普查信息被倒卖，涉及3万条", reposts=3000) for _ in range(9)]
    posts.append(mention("东川日报：临江县普查信息泄露", outlet="东川日报"))

    result = assess("privacy_leak", posts, settings.severity)

    assert result.level == "II"
    fired = {f.rule: f for f in result.fired}
    assert fired["信源权威度"].detail == "省级媒体"
    assert "倒卖" in fired["大规模信息泄露"].detail
    assert result.score == sum(f.score for f in result.fired)


def test_casualties_and_central_media_make_it_level_i(settings):
    posts = [
        mention("普查员入户遇袭身亡", outlet="新华网", reposts=30000, misinfo=True)
        for _ in range(12)
    ]
    assert assess("field_safety", posts, settings.severity).level == "I"


def test_an_office_can_change_the_thresholds(settings):
    rules = settings.severity.model_copy(
        update={"levels": {"I": 999, "II": 999, "III": 1, "IV": 0}}
    )
    assert assess("staff_conduct", [mention("窗口态度差")], rules).level == "III"


def test_levels_are_ordered_from_iv_to_i():
    assert level_rank("IV") < level_rank("III") < level_rank("II") < level_rank("I")
    assert level_rank(None) < level_rank("IV")
