"""The one-way house: the import contracts in pyproject.toml ([tool.importlinter]) hold.

Crawlers reach responder only through intake, settings, logs and the clock; responder never
imports crawlers; nlp imports neither; each responder stage imports only the stages before it;
no sibling modules import each other in a circle.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_the_import_contracts_hold() -> None:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} is missing: install the test extra (import-linter)")
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout
    # Every contract was checked: a config the linter could not read fails above, and an empty
    # contract list would pass silently.
    assert result.stdout.count("KEPT") >= 6, result.stdout


def test_a_broken_contract_fails_the_check(tmp_path: Path) -> None:
    """The check can fail: a config forbidding an import the code makes is reported broken."""
    config = tmp_path / "contracts.toml"
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["responder"]\n\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "web must not import models (it does)"\n'
        'type = "forbidden"\n'
        'source_modules = ["responder.web"]\n'
        'forbidden_modules = ["responder.models"]\n'
    )
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
