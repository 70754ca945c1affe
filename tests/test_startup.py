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
