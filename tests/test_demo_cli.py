"""`yuqing demo --once --json`: the user-facing contract of the foundation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from responder.db import Database
from responder.models import Mention, Source
from responder.settings import load_settings

pytestmark = pytest.mark.slow


def run_demo(cwd: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "responder.cli", "demo", "--once", "--json"],
        cwd=cwd,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, done.stdout
    return json.loads(lines[0])  # type: ignore[no-any-return]


def stored_by_kind(data_dir: Path) -> dict[str, int]:
    db = Database(load_settings())
    try:
        with db.sessions() as session:
            rows = session.execute(
                select(Source.kind, func.count(Mention.id))
                .join(Mention, Mention.source_id == Source.id)
                .group_by(Source.kind)
            ).all()
    finally:
        db.dispose()
    return dict(rows)  # type: ignore[arg-type]


def test_demo_once_prints_the_contract_and_a_rerun_adds_nothing(tmp_path, data_dir, ports):
    first = run_demo(tmp_path)

    assert set(first) == {"mentions", "new_mentions", "incidents", "drafts", "emails_sent"}
    assert set(first["incidents"]) == {"I", "II", "III", "IV"}  # type: ignore[arg-type]
    assert first["mentions"] == first["new_mentions"]
    assert first["mentions"] >= 60  # type: ignore[operator]
    assert first["incidents"]["I"] + first["incidents"]["II"] >= 1  # type: ignore[index]
    assert first["drafts"] >= 1  # type: ignore[operator]
    assert first["emails_sent"] >= 1  # type: ignore[operator]
    mailbox = sorted((data_dir / "mailbox").glob("*.eml"))
    assert len(mailbox) == first["emails_sent"]
    # Every kind of channel the demo world serves stored mentions in that one cycle: the
    # watched 通知公告 column too, since the demo read its baseline before the cycle.
    assert stored_by_kind(data_dir) == {
        "site": 48,
        "rss": 9,
        "weibo": 11,
        "hotlist": 1,
        "wechat": 2,
        "watch": 1,
        "mailbox": 2,
    }

    second = run_demo(tmp_path)

    assert second["new_mentions"] == 0
    assert second["emails_sent"] == 0
    assert second["mentions"] == first["mentions"]
    assert len(list((data_dir / "mailbox").glob("*.eml"))) == len(mailbox)


def test_a_bad_configuration_names_the_file_and_key(tmp_path):
    config = tmp_path / "conf"
    config.mkdir()
    (config / "settings.toml").write_text('[mail]\nsmtp_port = "not a port"\n', encoding="utf-8")

    done = subprocess.run(
        [sys.executable, "-m", "responder.cli", "--config", str(config), "demo", "--once"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert "settings.toml" in done.stderr and "mail.smtp_port" in done.stderr
    assert "Traceback" not in done.stderr
