"""What changed between two texts of a reply (a draft's edits, a template's versions), as a
unified diff and as lines with the changed characters marked, for the review pages."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field


def unified_diff(
    before: str, after: str, before_name: str = "修改前", after_name: str = "修改后"
) -> str:
    return "\n".join(
        difflib.unified_diff(
            before.splitlines(), after.splitlines(), before_name, after_name, lineterm=""
        )
    )


@dataclass
class DiffLine:
    """One line of a diff for display; `parts` marks the changed characters of a line that
    was rewritten (a Chinese paragraph is one line, so a whole-line diff hides the change)."""

    kind: str  # add | remove | context | hunk
    parts: list[tuple[bool, str]] = field(default_factory=list)


_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)")


def diff_lines(diff: str) -> list[DiffLine]:
    rows: list[DiffLine] = []
    removed: list[str] = []
    added: list[str] = []

    def flush() -> None:
        if len(removed) == len(added):
            for old, new in zip(removed, added, strict=True):
                old_parts, new_parts = _changed_chars(old, new)
                rows.append(DiffLine("remove", old_parts))
                rows.append(DiffLine("add", new_parts))
        else:
            rows.extend(DiffLine("remove", [(False, line)]) for line in removed)
            rows.extend(DiffLine("add", [(False, line)]) for line in added)
        removed.clear()
        added.clear()

    for line in diff.split("\n"):
        if line.startswith(("--- ", "+++ ")) and not rows and not removed and not added:
            continue
        if line.startswith("-"):
            if added:
                flush()
            removed.append(line[1:])
            continue
        if line.startswith("+"):
            added.append(line[1:])
            continue
        flush()
        hunk = _HUNK.match(line)
        if hunk:
            rows.append(DiffLine("hunk", [(False, f"第 {hunk.group(2)} 行起")]))
        elif line:
            rows.append(DiffLine("context", [(False, line[1:])]))
    flush()
    return rows


def _changed_chars(old: str, new: str) -> tuple[list[tuple[bool, str]], list[tuple[bool, str]]]:
    old_parts: list[tuple[bool, str]] = []
    new_parts: list[tuple[bool, str]] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if a2 > a1:
            old_parts.append((op != "equal", old[a1:a2]))
        if b2 > b1:
            new_parts.append((op != "equal", new[b1:b2]))
    return old_parts, new_parts
