"""Starting yuqing while another instance holds a port it needs ends in one line, in Chinese and
English, saying which port and which setting moves it — exit status 2, no traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from responder.demo.mailsink import free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def taken() -> Iterator[int]:
    """A port something else listens on, as another running yuqing would."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", free_port()))
        other.listen()
        yield int(other.getsockname()[1])


def start(args: list[str], cwd: object, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "responder.cli", *args],
        cwd=cwd,
        env=dict(os.environ, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "setting", "what"),
    [
        (["demo"], "YUQING_WEB__PORT", "网页界面端口"),
        (["demo"], "YUQING_DEMO__WORLD_PORT", "演示新闻站端口"),
        (["demo", "--once"], "YUQING_DEMO__MAIL_PORT", "演示邮件接收（SMTP）端口"),
        (["web"], "YUQING_WEB__PORT", "网页界面端口"),
    ],
)
def test_a_busy_port_is_one_line_saying_what_to_change(
    tmp_path, data_dir, ports, taken, args, setting, what
):
    done = start(args, tmp_path, **{setting: str(taken)})

    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = [line for line in done.stderr.splitlines() if str(taken) in line]
    assert len(lines) == 1, done.stderr
    line = lines[0]
    assert f"{what} {taken} 已被占用（可能已有一个 yuqing 在运行）：请先停止它" in line
    assert f"port {taken} is in use" in line and setting in line
    # Nothing was started: the demo did not announce itself nor make its mailbox.
    assert "演示已启动" not in done.stdout
    assert not (data_dir / "mailbox").exists()


def test_a_busy_port_given_as_the_option_is_caught_too(tmp_path, data_dir, ports, taken):
    done = start(["web", "--port", str(taken)], tmp_path)

    assert done.returncode == 2 and "--port" in done.stderr and "Traceback" not in done.stderr


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on: connecting is refused at once."""
    return free_port()


def test_an_unreachable_database_is_one_line_without_its_password(monkeypatch):
    from responder.running.startup import StartupProblem, check_database
    from responder.settings import load_settings

    port = closed_port()
    url = f"postgresql+psycopg://yuqing:s3cret@127.0.0.1:{port}/yuqing"
    settings = load_settings(overrides={"database": {"url": url}})
    with pytest.raises(StartupProblem) as caught:
        check_database(settings)
    line = str(caught.value)
    assert "\n" not in line and "s3cret" not in line
    assert f"数据库 127.0.0.1:{port} 无法连接" in line and "YUQING_DATABASE__URL" in line
    assert f"Database 127.0.0.1:{port} is unreachable" in line
    # SQLite is a file in the data directory: nothing to reach.
    check_database(load_settings())


def test_yuqing_web_stops_with_the_database_line_and_no_traceback(tmp_path, data_dir, ports):
    port = closed_port()
    url = f"postgresql+psycopg://yuqing:s3cret@127.0.0.1:{port}/yuqing"
    done = start(["web", "--port", str(free_port())], tmp_path, YUQING_DATABASE__URL=url)

    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout and "s3cret" not in done.stderr
    [line] = [line for line in done.stderr.splitlines() if "无法连接" in line]
    assert f"127.0.0.1:{port}" in line and "YUQING_DATABASE__URL" in line


def test_an_unreachable_mail_server_warns_that_mail_waits_in_the_outbox(caplog, data_dir):
    from responder.demo.mailsink import MailSink
    from responder.running.startup import check_smtp
    from responder.settings import load_settings

    port = closed_port()
    settings = load_settings(overrides={"mail": {"smtp_host": "127.0.0.1", "smtp_port": port}})
    with caplog.at_level("WARNING", logger="responder.running.startup"):
        line = check_smtp(settings)
    assert line is not None and "\n" not in line
    assert f"邮件服务器 127.0.0.1:{port} 无法连接" in line and "发件箱" in line
    assert "notices wait in the outbox" in line and "YUQING_MAIL__SMTP_PORT" in line
    assert [r.getMessage() for r in caplog.records] == [line]

    sink = MailSink(data_dir / "mailbox", port=port).start()
    try:
        assert check_smtp(settings) is None
    finally:
        sink.stop()


def test_a_missing_chinese_font_is_one_warning_naming_the_package(caplog, monkeypatch):
    from responder.reports import charts
    from responder.running.startup import check_font

    # No machine here lacks every font; a font list without a CJK one stands in for it.
    monkeypatch.setattr(charts, "CJK_FONTS", ("No Such CJK Font",))
    monkeypatch.setattr(charts.font_manager, "findSystemFonts", lambda: [])
    # cjk_font is looked up once per process: forget the answer before and after, so the
    # charts drawn by later tests find the real font again.
    charts.cjk_font.cache_clear()
    try:
        with caplog.at_level("WARNING", logger="responder.reports.charts"):
            check_font()
    finally:
        charts.cjk_font.cache_clear()
    [record] = caplog.records
    line = record.getMessage()
    assert "\n" not in line and "未找到中文字体" in line and "No CJK font found" in line
    assert charts.FONT_PACKAGE in line
