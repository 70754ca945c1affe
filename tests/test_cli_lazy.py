"""The command line imports a command's module only when that command runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import typer
from typer.testing import CliRunner

from responder.cli.app import COMMANDS, app

ROOT = Path(__file__).resolve().parents[1]


def test_the_table_names_every_registered_command_and_its_module() -> None:
    for module in dict.fromkeys(COMMANDS.values()):
        import_module(f"responder.cli.{module}")
    registered = typer.main.get_group(app).commands
    assert set(registered) == set(COMMANDS)
    for name, command in registered.items():
        callback = command.callback
        if isinstance(command, typer.core.TyperGroup):  # a group: one of its commands
            callback = next(iter(command.commands.values())).callback
        assert callback is not None
        assert callback.__module__ == f"responder.cli.{COMMANDS[name]}", name


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    for name in COMMANDS:
        assert f" {name} " in result.output


def test_classifying_a_file_loads_neither_the_database_nor_other_commands(tmp_path: Path) -> None:
    # A fresh interpreter: in this one, other tests have imported everything already.
    (tmp_path / "in.jsonl").write_text(
        json.dumps({"text": "临江县统计局发布前三季度经济运行情况"}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    probe = (
        "import sys\n"
        "from responder.cli import main\n"
        "sys.argv = ['yuqing', 'classify', '--input', sys.argv[1], '--output', sys.argv[2]]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print(sorted(m for m in sys.modules if m.startswith(('sqlalchemy', 'alembic',"
        " 'responder.cli.', 'responder.incidents', 'responder.web'))))\n"
    )
    env = {**os.environ, "YUQING_DATA": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "in.jsonl"), str(tmp_path / "out.jsonl")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.strip().splitlines()[-1]
    assert loaded == "['responder.cli.app', 'responder.cli.judgements']", loaded
    judged = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
    assert judged["sentiment"] in {"positive", "neutral", "negative"}


def test_an_unknown_command_is_refused_by_name() -> None:
    result = CliRunner().invoke(app, ["no-such-command"])
    assert result.exit_code == 2
    assert "no-such-command" in result.output
