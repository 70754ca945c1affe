"""`yuqing crawl` as an officer runs it: what it prints, and how it treats a failing server."""

from __future__ import annotations

from tests.crawling import LoopbackSite, run_crawl, write_sources


def test_yuqing_crawl_prints_what_each_source_did(tmp_path, data_dir):
    from typer.testing import CliRunner

    from responder.cli import app

    site = LoopbackSite().start()
    site.page("/news/", "<html><body><p>今天没有新闻</p></body></html>")
    site.route("/down/", status=503)
    try:
        config = write_sources(
            tmp_path / "config",
            [
                {"name": "新闻网", "kind": "site", "url": site.url("/news/")},
                {"name": "坏网站", "kind": "site", "url": site.url("/down/")},
            ],
        )
        done = CliRunner().invoke(
            app, ["--config", str(config), "crawl"], env={"YUQING_CRAWL__RETRIES": "0"}
        )
    finally:
        site.stop()
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert "新闻网：无结果，请求 2，发现 0，入库 0，跳过 0，错误 0" in lines
    assert "坏网站：失败，请求 2，发现 0，入库 0，跳过 0，错误 1" in lines
    assert any("HTTP 503" in line for line in lines)


def test_a_failing_page_is_retried_after_a_growing_pause(tmp_path, data_dir):
    import time

    answers = iter([503, 503, 200])
    seen: list[float] = []

    def flaky(path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        seen.append(time.monotonic())
        status = next(answers, 200)
        return status, {"Content-Type": "text/html; charset=utf-8"}, b"<p>ok</p>"

    site = LoopbackSite().start()
    site.route("/news/", handler=flaky)
    try:
        config = write_sources(
            tmp_path / "config", [{"name": "新闻网", "kind": "site", "url": site.url("/news/")}]
        )
        done = run_crawl(
            config,
            env={"YUQING_CRAWL__RETRIES": "2", "YUQING_CRAWL__RETRY_BACKOFF_SECONDS": "0.5"},
        )
    finally:
        site.stop()
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(seen) == 3  # two retries, the second one answered
    first_pause, second_pause = seen[1] - seen[0], seen[2] - seen[1]
    assert first_pause >= 0.5 and second_pause >= 1.0
