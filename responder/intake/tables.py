"""Files handed over for import, read as tables: JSONL, CSV (any common encoding) or XLSX, with
the header found, columns resolved to mention fields, and rows streamed as checked records.
Bad rows are reported, never guessed; size limits (`import_limits`) hold before anything is
read whole."""

from __future__ import annotations

import codecs
import csv
import json
import warnings
import zipfile
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from responder.intake import import_limits as bounds
from responder.intake.columns import (
    LIMITS,
    UnusableInput,
    cell_text,
    normal_name,
    resolve_columns,
)
from responder.intake.export import plain_cell
from responder.settings import LimitsSettings

FORMATS = ("jsonl", "csv", "xlsx")
BATCH_ROWS = 500  # rows per transaction: what a crash can lose, and how often the run is saved
PROGRESS_EVERY = 1000
HEADER_SEARCH_ROWS = 10  # platform exports often put a title line or two above the header


@dataclass
class Row:
    where: str  # "line 7" (JSONL) or "row 7" (CSV/XLSX, as a spreadsheet numbers it)
    values: dict[str, Any] = field(default_factory=dict)
    error: str = ""


@dataclass
class Table:
    """A file opened for import: its header is read and its columns resolved; rows stream."""

    path: Path
    format: str
    columns: list[str]
    resolved: dict[str, str]
    encoding: str | None
    rows: Iterator[Row]


def format_of(path: Path, given: str | None) -> str:
    if given:
        if given not in FORMATS:
            raise UnusableInput(f"unknown format {given!r}; use one of {', '.join(FORMATS)}")
        return given
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix == ".xls":
        raise UnusableInput(f"{path.name}: the old .xls format is not read; save it as .xlsx")
    raise UnusableInput(
        f"{path.name}: unknown format {suffix or '(no extension)'!r}; "
        f"use --format {'|'.join(FORMATS)}"
    )


def detect_encoding(path: Path) -> str:
    """utf-8-sig, utf-8 or gb18030 (what Excel in China saves "CSV" as), read to the end."""
    with path.open("rb") as f:
        if f.read(3) == codecs.BOM_UTF8:
            return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise UnusableInput(f"{path.name}: neither UTF-8 nor GB18030 text; save it as UTF-8")


def _jsonl(path: Path, mapping: dict[str, str], limits: LimitsSettings) -> Table:
    encoding = detect_encoding(path)
    columns: dict[str, None] = {}  # every key any object has, in order of first appearance
    with path.open(encoding=encoding) as f:
        for number, line in bounds.lines(f, limits.import_row_chars):
            if number > limits.import_rows or line is None:
                continue
            try:
                obj = bounds.json_object(line)
            except (json.JSONDecodeError, bounds.LimitExceeded):
                continue
            if isinstance(obj, dict):
                columns.update(dict.fromkeys(obj))
    resolved = resolve_columns(list(columns), mapping)

    def rows() -> Iterator[Row]:
        with path.open(encoding=encoding) as f:
            for number, line in bounds.lines(f, limits.import_row_chars):
                where = f"line {number}"
                if number > limits.import_rows:
                    yield Row(where, error=_too_many(limits.import_rows))
                    return
                if line is None:
                    yield Row(where, error=_too_long(limits))
                    continue
                if not line.strip():
                    continue
                try:
                    obj = bounds.json_object(line)
                except json.JSONDecodeError as exc:
                    yield Row(where, error=f"not JSON: {exc}")
                    continue
                except bounds.LimitExceeded as exc:
                    yield Row(where, error=str(exc))
                    continue
                if not isinstance(obj, dict):
                    yield Row(where, error="not a JSON object")
                    continue
                yield Row(where, obj)

    return Table(path, "jsonl", list(columns), resolved, encoding, rows())


def _too_many(max_rows: int) -> str:
    return f"more than {max_rows} rows; this one and the rest not read (limits.import_rows)"


def _too_long(limits: LimitsSettings) -> str:
    return f"longer than {limits.import_row_chars} characters (limits.import_row_chars)"


def _tabular(
    numbered: Iterator[tuple[int, list[Any], str]], mapping: dict[str, str], max_rows: int
) -> tuple[list[str], dict[str, str], Iterator[Row]]:
    """Find the header among the first rows, then yield the rows below it as dicts.

    `numbered` gives (row number, cells, why the row could not be read or "")."""
    problem: UnusableInput | None = None
    tried = 0
    for _number, cells, _error in numbered:
        if not any(normal_name(c) for c in cells):
            continue
        header = [cell_text(c, "header") for c in cells]
        try:
            resolved = resolve_columns(header, mapping)
        except UnusableInput as exc:
            problem = problem or exc  # the first row's columns are the ones worth listing
            tried += 1
            if tried == HEADER_SEARCH_ROWS:
                break
            continue

        def rows(header: list[str] = header) -> Iterator[Row]:
            read = 0
            for number, cells, error in numbered:
                read += 1
                if read > max_rows:
                    yield Row(f"row {number}", error=_too_many(max_rows))
                    return
                if error:
                    yield Row(f"row {number}", error=error)
                    continue
                if not any(normal_name(c) for c in cells):
                    continue
                values: dict[str, Any] = {}
                for column, cell in zip(header, cells, strict=False):
                    values.setdefault(column, cell)
                yield Row(f"row {number}", values)

        return header, resolved, rows()
    raise problem or UnusableInput("the file has no rows")


def _csv(path: Path, mapping: dict[str, str], limits: LimitsSettings) -> Table:
    encoding = detect_encoding(path)
    # Whole articles in one cell exceed the csv module's default 128 KiB field limit; the
    # setting is the bound instead (the limit is the csv module's, for the whole process).
    csv.field_size_limit(limits.import_cell_chars)

    def physical(f: IO[str]) -> Iterator[str]:
        for _number, line in bounds.lines(f, limits.import_row_chars):
            if line is None:
                raise bounds.LimitExceeded(_too_long(limits))
            yield line

    def numbered() -> Generator[tuple[int, list[Any], str], None, None]:
        with path.open(encoding=encoding, newline="") as f:
            reader = csv.reader(physical(f))
            number = 0
            while True:
                number += 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except bounds.LimitExceeded as exc:
                    # The reader is mid-row: what follows cannot be split into rows reliably.
                    yield number, [], f"{exc}; the rest of the file is not read"
                    return
                except csv.Error as exc:
                    if "field larger than field limit" in str(exc):
                        yield (
                            number,
                            [],
                            (
                                f"a cell longer than {limits.import_cell_chars} characters "
                                "(limits.import_cell_chars); the rest of the file is not read"
                            ),
                        )
                        return
                    yield number, [], f"unreadable CSV: {exc}"
                    continue
                # A yuqing export protected formula-like cells with an apostrophe.
                yield number, [plain_cell(cell) for cell in cells], ""

    return _table(path, "csv", encoding, numbered(), mapping, limits.import_rows)


def _table(
    path: Path,
    fmt: str,
    encoding: str | None,
    source: Generator[tuple[int, list[Any], str], None, None],
    mapping: dict[str, str],
    max_rows: int,
) -> Table:
    try:
        header, resolved, rows = _tabular(source, mapping, max_rows)
    except UnusableInput:
        source.close()  # releases the file or workbook at once
        raise
    return Table(path, fmt, header, resolved, encoding, rows)


def _xlsx(path: Path, mapping: dict[str, str], sheet: str | None, limits: LimitsSettings) -> Table:
    # Only an .xlsx import needs openpyxl (a quarter-second import), so it loads here.
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    # What openpyxl raises on a damaged file: a broken archive (BadZipFile, zlib.error,
    # EOFError; zipfile's RuntimeError and NotImplementedError for a part flagged encrypted or
    # compressed with an unknown method), a missing part (KeyError), malformed XML
    # (SyntaxError: both ElementTree's and lxml's parse errors), values its descriptors
    # reject (TypeError, ValueError).
    damaged = (
        InvalidFileException,
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        RuntimeError,
        NotImplementedError,
        KeyError,
        OSError,
        SyntaxError,
        TypeError,
        ValueError,
    )
    try:
        bounds.check_workbook(path, limits)
    except bounds.LimitExceeded as exc:
        raise UnusableInput(str(exc)) from None
    try:
        with warnings.catch_warnings():
            # Exports from other tools often lack a default style; that is no reason to stop.
            warnings.simplefilter("ignore", UserWarning)
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except damaged as exc:
        raise UnusableInput(f"{path.name}: not a readable .xlsx file ({exc})") from None
    if sheet is not None and sheet not in book.sheetnames:
        book.close()
        raise UnusableInput(
            f"{path.name} has no sheet {sheet!r}; its sheets: {', '.join(book.sheetnames)}"
        )
    if not book.worksheets:  # a damaged workbook may list no sheet, or only chart sheets
        book.close()
        raise UnusableInput(f"{path.name}: the workbook has no worksheet")
    ws = book[sheet] if sheet is not None else book.worksheets[0]
    # Some exporters write a wrong sheet size; without it every cell present is read.
    ws.reset_dimensions()  # type: ignore[union-attr]

    def numbered() -> Generator[tuple[int, list[Any], str], None, None]:
        number = 0
        try:
            # Read-only sheets are parsed while iterating: damage shows up here, as a bad row
            # ending the file, so the rows before it are still imported.
            for number, cells in enumerate(ws.iter_rows(values_only=True), 1):
                yield number, list(cells), ""
        except damaged as exc:
            yield number + 1, [], f"unreadable from here on, the file is damaged ({exc})"
        finally:
            book.close()

    return _table(path, "xlsx", None, numbered(), mapping, limits.import_rows)


def open_file(
    path: Path,
    fmt: str | None = None,
    mapping: dict[str, str] | None = None,
    sheet: str | None = None,
    limits: LimitsSettings = LIMITS,
) -> Table:
    """Open `path` and resolve its columns; UnusableInput when it cannot be imported as asked."""
    fmt = format_of(path, fmt)
    mapping = mapping or {}
    if not path.is_file():
        raise UnusableInput(f"{path}: no such file")
    if sheet is not None and fmt != "xlsx":
        raise UnusableInput("--sheet is for .xlsx files")
    try:
        bounds.check_file(path, limits)
    except bounds.LimitExceeded as exc:
        raise UnusableInput(str(exc)) from None
    if fmt == "jsonl":
        return _jsonl(path, mapping, limits)
    if fmt == "csv":
        return _csv(path, mapping, limits)
    return _xlsx(path, mapping, sheet, limits)


# --- importing ------------------------------------------------------------------------------
