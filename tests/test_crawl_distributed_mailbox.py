"""A `mailbox` source crawled by two `--worker` processes of one round (crawlers.distributed):
a real Redis, the suite's real IMAP server (dovecot, `tests/dovecot.py`) with the letters of
`tests/test_crawl_mailbox.py`, behind a proxy that holds every connection until both workers
have opened their spiders, so both would read the folder at once if both read it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.crawling import crawl_state, run_round, write_sources
from tests.test_crawl_mailbox import (
    LETTERS,
    PASSWORD,
    USER,
    ImapProxy,
    append_at_letter_dates,
    environment,
    mailbox,
)

# Both workers start Python and Scrapy before the gate opens: on a busy machine that can take
# longer than the mailbox tests' 5 s, and a reader waiting at the gate must not time out.
TIMEOUT = {"YUQING_CRAWL__DOWNLOAD_TIMEOUT": "60"}


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    from tests.dovecot import DovecotServer, Unavailable

    try:
        imap = DovecotServer({USER: PASSWORD}).start()
    except Unavailable as exc:
        pytest.skip(f"IMAP tests skipped: {exc}")
    yield imap
    imap.remove()


@pytest.fixture
def proxy(server: Any) -> Iterator[ImapProxy]:
    gated = ImapProxy(server.port, gated=True)
    yield gated
    gated.gate.set()
    gated.close()


def test_two_workers_store_every_letter_once_and_read_each_once(
    tmp_path: Path, redis_url: str, server: Any, proxy: ImapProxy
) -> None:
    append_at_letter_dates(server, USER, list(LETTERS.values()))
    env = {**environment(tmp_path, {"局长信箱": PASSWORD}), **TIMEOUT}
    config = write_sources(tmp_path / "config", [mailbox("局长信箱", proxy.port)])
    logs = tmp_path / "logs"
    logs.mkdir()
    readable = len(LETTERS) - 1  # one letter's MIME tree is broken: set aside, not stored

    first = run_round(config, redis_url, logs, "round1", proxy.gate, env=env)
    state = crawl_state(config, env)

    # One worker read the folder: one connection, each letter's body fetched once.
    assert (proxy.connections, proxy.bodies) == (1, len(LETTERS))
    assert len(state.mentions) == readable
    assert {"mid:utf8@mail.example.cn", "mid:gb@mail.example.cn", "mid:html@mail.example.cn"} < set(
        state.mentions
    )
    assert sum(url.startswith("imap://127.0.0.1:") for url in state.mentions) == 1  # no-id
    assert state.seen["mid:broken@mail.example.cn"] == "unreadable"
    # One run, by the worker that read it, under the round's ID; the other recorded none.
    [run] = state.runs["局长信箱"]
    assert (run.status, run.fetched, run.found, run.stored, run.failed) == (
        "ok",
        1 + len(LETTERS),
        len(LETTERS),
        readable,
        1,
    )
    assert "mid:broken@mail.example.cn" in (run.error or "")
    assert run.cycle_id not in ("manual", "")
    assert sum("read by another worker of round" in output for output in first) == 1
    assert sum("last worker out" in output for output in first) == 1

    # The next round lists the folder once more and fetches no letter again.
    proxy.reset()
    run_round(config, redis_url, logs, "round2", proxy.gate, env=env)
    again = crawl_state(config, env)

    assert (proxy.connections, proxy.bodies) == (1, 0)
    assert set(again.mentions) == set(state.mentions)
    later = again.runs["局长信箱"][1:]
    assert [(r.status, r.fetched, r.found, r.stored) for r in later] == [("ok", 1, len(LETTERS), 0)]
    assert later[0].cycle_id != run.cycle_id
    flags = server.flags(USER, PASSWORD)
    assert len(flags) == len(LETTERS)
    assert not any(b"\\Seen" in f or b"\\Deleted" in f for f in flags)
