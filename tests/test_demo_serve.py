"""`yuqing demo` keeps running: it serves the web UI after its first cycle and stops on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import httpx
import pytest

from responder.demo.mailsink import free_port
from responder.demo.run import DEMO_PASSWORD
from tests.webclient import csrf

pytestmark = pytest.mark.slow


def wait_for(url: str, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode("utf-8")
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_demo_serves_the_web_ui_and_stops_cleanly_on_ctrl_c(tmp_path, data_dir, ports):
    port = free_port()
    env = dict(os.environ, YUQING_WEB__PORT=str(port))
    process = subprocess.Popen(
        [sys.executable, "-m", "responder.cli", "demo"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        first_line = process.stdout.readline()  # type: ignore[union-attr]
        assert "演示已启动" in first_line
        wait_for(f"http://127.0.0.1:{port}/healthz", 60)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", follow_redirects=True) as browser:
            token = csrf(browser.get("/login").text)
            browser.post(
                "/login", data={"name": "王敏", "password": DEMO_PASSWORD, "csrf_token": token}
            )
            deadline = time.monotonic() + 120
            while "重大（II级）" not in (page := browser.get("/").text):
                assert time.monotonic() < deadline, "first cycle never showed the major incident"
                time.sleep(1)
        assert "今日值班" in page
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) in (0, -signal.SIGINT, 130)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()  # type: ignore[union-attr]
    assert list((data_dir / "mailbox").glob("*.eml"))
