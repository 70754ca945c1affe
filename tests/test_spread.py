"""Spread figures: pace, engagement where known, outlets and their authority."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from responder.incidents.spread import over_time, spread
from responder.models import Mention

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def mention(
    hours_ago: float,
    outlet: str = "",
    author: str = "",
    url: str = "http://x.example/1",
    reposts: int = 0,
    comments: int = 0,
    likes: int = 0,
) -> Mention:
    return Mention(
        url=url,
        canonical_url=url,
        content_hash="h",
        title="",
        text="普查信息被倒卖",
        outlet=outlet,
        author=author,
        published_at=NOW - timedelta(hours=hours_ago),
        fetched_at=NOW,
        reposts=reposts,
        comments=comments,
        likes=likes,
    )


def test_mentions_per_hour_over_the_lifetime_the_last_six_hours_and_the_peak_hour(settings):
    posts = [mention(h) for h in (10, 3.5, 3.2, 3.1, 1)]

    result = spread(posts, settings.severity, NOW)

    assert result.mentions == 5
    assert result.per_hour == 5 / 9
    assert (result.recent, result.recent_per_hour) == (4, 4 / 6)
    assert result.peak_hour == datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    assert result.peak_count == 3
    assert result.first_seen == NOW - timedelta(hours=10) and result.last_seen == NOW - timedelta(
        hours=1
    )


def test_a_single_mention_counts_as_one_an_hour_not_infinitely_many(settings):
    result = spread([mention(30)], settings.severity, NOW)
    assert (result.per_hour, result.recent, result.peak_count) == (1.0, 0, 1)


def test_an_unpublished_mention_counts_from_when_it_was_fetched(settings):
    undated = mention(0)
    undated.published_at = None
    assert spread([undated], settings.severity, NOW).recent == 1


def test_engagement_is_summed_over_the_mentions_that_report_it():
    posts = [
        mention(1, reposts=120, comments=30, likes=400),
        mention(2, reposts=5),
        mention(3),  # a site that reports no counts: unknown, not zero
    ]
    result = spread(posts, None, NOW)
    assert (result.reposts, result.comments, result.likes) == (125, 30, 400)
    assert result.with_engagement == 2


def test_engagement_is_unknown_when_no_source_reports_it():
    result = spread([mention(1), mention(2)], None, NOW)
    assert (result.reposts, result.comments, result.likes) == (None, None, None)
    assert result.to_dict()["reposts"] is None


def test_outlets_are_counted_once_each_and_by_authority_tier(settings):
    posts = [
        mention(1, outlet="新华网"),
        mention(2, outlet="东川日报"),
        mention(3, outlet="东川日报"),
        mention(4, author="临江身边事"),
        mention(5, author="网友小王"),
        mention(6, url="http://bbs.example/t/9"),
    ]

    result = spread(posts, settings.severity, NOW)

    assert result.outlets == 5
    assert result.tiers == {
        "central_media": 1,
        "provincial_media": 2,
        "verified_account": 1,
        "personal_account": 2,
    }
    assert result.tier_labels[0] == ("中央媒体", 1)
    assert [name for name, _ in result.tier_labels][-1] == "个人账号"


def test_tiers_follow_the_offices_outlet_list(settings):
    rules = settings.severity.model_copy(
        update={"outlet_tiers": {**settings.severity.outlet_tiers, "local_media": ["网友小王"]}}
    )
    result = spread([mention(1, author="网友小王")], rules, NOW)
    assert result.tiers == {"local_media": 1}


def test_no_mentions_give_zeros():
    result = spread([], None, NOW)
    assert (result.mentions, result.per_hour, result.outlets, result.peak_hour) == (0, 0, 0, None)
    assert result.tiers == {}


def test_the_spread_chart_counts_each_office_hour_by_tier_with_the_gaps(settings):
    posts = [mention(5.5, outlet="新华网"), mention(5.2, author="网友小王"), mention(1.5)]

    step, bars = over_time(posts, settings.severity, settings.tz)

    assert step == "hour" and len(bars) == 5  # 06:00 … 10:00 UTC, the empty hours too
    assert [b.total for b in bars] == [2, 0, 0, 0, 1]
    assert bars[0].tiers == {"central_media": 1, "personal_account": 1}
    assert bars[0].start.tzinfo == settings.tz  # office hours, as the page shows them
    assert all(b.end - b.start == timedelta(hours=1) for b in bars)


def test_a_long_story_is_charted_by_day_and_none_is_charted_empty(settings):
    step, bars = over_time([mention(24 * 10), mention(0)], settings.severity, settings.tz)
    assert step == "day" and len(bars) in (10, 11) and sum(b.total for b in bars) == 2
    assert over_time([], settings.severity, settings.tz) == ("hour", [])
