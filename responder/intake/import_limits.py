"""The bounds `yuqing import` reads a file within (`[limits]` import_*): the file's size, a
spreadsheet's unpacked size, the length of a line and of a cell, the number of rows, and how
deep a JSON line may nest. A file from outside could otherwise take minutes and gigabytes (one
60 MB cell), crash the reader (JSON nested 100,000 deep) or never finish (an XLSX zip bomb).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from responder.errors import DomainError
from responder.settings import LimitsSettings

MB = 1 << 20
JSON_DEPTH = 20  # a mention is one flat object; exports nest a level or two at most


class LimitExceeded(DomainError, ValueError):
    """Input past one of the import bounds; the message names the bound and its setting."""


def check_file(path: Path, limits: LimitsSettings) -> None:
    size = path.stat().st_size
    if size > limits.import_file_mb * MB:
        raise LimitExceeded(
            f"{path.name}: {size / MB:.1f} MB, larger than the {limits.import_file_mb:g} MB "
            "allowed (limits.import_file_mb)"
        )


def check_workbook(path: Path, limits: LimitsSettings) -> None:
    """Refuse an XLSX whose parts unpack to more than the bound, before anything is unpacked.

    The sizes are the ones the archive declares; zipfile never returns more than declared for
    a part (and fails its CRC check if the data differs), so they bound what is read."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, EOFError):
        return  # openpyxl reports the damage in its own words
    if unpacked > limits.import_xlsx_mb * MB:
        raise LimitExceeded(
            f"{path.name}: unpacks to {unpacked / MB:.0f} MB, more than the "
            f"{limits.import_xlsx_mb:g} MB allowed (limits.import_xlsx_mb); a workbook this "
            "size is usually a zip bomb"
        )


def lines(f: IO[str], limit: int) -> Iterator[tuple[int, str | None]]:
    """(line number, line) for each line of `f`; None for a line longer than `limit`
    characters, whose rest is skipped without being held in memory."""
    number = 0
    while True:
        line = f.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) <= limit or line.endswith(("\n", "\r")):
            yield number, line
            continue
        while (rest := f.readline(MB)) and not rest.endswith(("\n", "\r")):
            pass
        yield number, None


def json_object(line: str) -> Any:
    """The JSON value of one line; LimitExceeded when it nests deeper than a mention can."""
    if line.count("[") + line.count("{") <= JSON_DEPTH:
        return json.loads(line)
    depth = deepest = 0
    in_string = escaped = False
    # Counted before parsing: Python's parser recurses once per level and gives up with a
    # RecursionError, and a deep line is no mention anyway.
    for char in line:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > JSON_DEPTH:
                raise LimitExceeded(f"JSON nested more than {JSON_DEPTH} levels deep")
        elif char in "]}":
            depth -= 1
    return json.loads(line)
