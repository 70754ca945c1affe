"""`yuqing import FILE`: mentions handed over by people — exports of other monitoring platforms,
lists sent by the upper-level office — as JSONL, CSV or XLSX.

Each row goes the way a crawled item goes (clean → relevance → de-duplicate → store) and lands
under one `Source` (kind "import") and one `CrawlRun` (cycle id `import-<hex>`), so the sources
page and the audit trail show where it came from. Rows are committed in batches: a crash keeps
what was committed, and running the import again stores only the rest, as duplicates are skipped.

Rows without a URL get `import:<content hash>` as theirs: stable across runs, so the same text
imported twice is the same mention.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import uuid
import warnings
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

import nlp
from responder import audit, clock
from responder.db import Database
from responder.errors import DomainError
from responder.intake import import_limits as bounds
from responder.intake.counts import parse_count as read_count
from responder.intake.export import MENTION_FIELDS, plain_cell
from responder.intake.mentions import MentionRecord, canonical_url, clean, content_hash, source_for
from responder.intake.mentions import store as store_mention
from responder.intake.reprints import group_reprints
from responder.models import CrawlRun
from responder.processes import this_process
from responder.settings import LimitsSettings, Settings

FORMATS = ("jsonl", "csv", "xlsx")
FIELDS = MENTION_FIELDS
# Header names recognised without --map: the export's own, then what other platforms' exports
# call them. Order matters where a file has several: 正文 is preferred to 摘要.
ALIASES: dict[str, tuple[str, ...]] = {
    "url": ("url", "链接", "网址", "原文链接", "文章链接", "原文地址", "链接地址", "link"),
    "source": ("source", "来源", "媒体", "站点", "网站", "来源网站", "媒体名称", "站点名称"),
    "title": ("title", "标题", "文章标题"),
    "text": ("text", "正文", "内容", "全文", "文章内容", "微博内容", "content", "摘要"),
    "author": ("author", "作者", "发布者", "博主", "发布人", "昵称"),
    "outlet": ("outlet",),
    "published_at": (
        "published_at",
        "published",
        "发布时间",
        "发表时间",
        "发文时间",
        "时间",
        "发布日期",
        "日期",
    ),
    "reposts": ("reposts", "转发数", "转发", "转发量"),
    "comments": ("comments", "评论数", "评论", "评论量"),
    "likes": ("likes", "点赞数", "点赞", "点赞量"),
}
BATCH_ROWS = 500  # rows per transaction: what a crash can lose, and how often the run is saved
PROGRESS_EVERY = 1000
HEADER_SEARCH_ROWS = 10  # platform exports often put a title line or two above the header
MAX_CANONICAL_URL = 700  # Mention.canonical_url's column width
MAX_NAME = 200  # Mention.author and Mention.outlet column width
LIMITS = LimitsSettings()  # the defaults, for callers without settings (tests, the fuzz suite)


class UnusableInput(DomainError, ValueError):
    """The file cannot be imported at all: missing, unknown format, bad mapping or encoding."""


class BadRow(DomainError, ValueError):
    """One row cannot be imported; the others still are."""


@dataclass
class ImportSummary:
    file: str
    format: str
    encoding: str | None  # None for xlsx, which carries its own
    source: str
    cycle_id: str
    columns: dict[str, str]  # field → the file's column it was read from
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    not_relevant: int = 0
    bad_rows: int = 0
    reprints: int = 0  # stored mentions found to reprint another (转载)
    classified: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Row:
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
    rows: Iterator[_Row]


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


def parse_mapping(items: list[str]) -> dict[str, str]:
    """`原列名=field` options as {column: field}."""
    mapping: dict[str, str] = {}
    for item in items:
        column, sep, name = item.rpartition("=")
        column, name = column.strip(), name.strip()
        if not sep or not column:
            raise UnusableInput(f"--map {item!r}: write it as COLUMN=FIELD")
        if name not in FIELDS:
            raise UnusableInput(
                f"--map {item!r}: unknown field {name!r}; fields: {', '.join(FIELDS)}"
            )
        if name in mapping.values():
            raise UnusableInput(f"--map: field {name!r} is mapped twice")
        mapping[column] = name
    return mapping


def _norm(name: Any) -> str:
    return re.sub(r"\s+", "", str(name or "")).lstrip("\ufeff").lower()


def resolve_columns(columns: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """{field: column} from the mapping first, then the recognised header names."""
    by_norm: dict[str, str] = {}
    for column in columns:
        if _norm(column):
            by_norm.setdefault(_norm(column), column)
    listed = ", ".join(repr(c) for c in columns if _norm(c)) or "(none)"
    chosen: dict[str, str] = {}
    for column, name in mapping.items():
        found = by_norm.get(_norm(column))
        if found is None:
            raise UnusableInput(
                f"--map {column}={name}: the file has no column {column!r}; its columns: {listed}"
            )
        chosen[name] = found
    used = set(chosen.values())
    for name, aliases in ALIASES.items():
        if name in chosen:
            continue
        for alias in aliases:
            found = by_norm.get(_norm(alias))
            if found is not None and found not in used:
                chosen[name] = found
                used.add(found)
                break
    if "text" not in chosen:
        raise UnusableInput(
            f"no text column recognised (tried {', '.join(ALIASES['text'])}); "
            f"name one with --map COLUMN=text; the file's columns: {listed}"
        )
    return chosen


def parse_count(value: Any) -> int:
    """An engagement count as exports write it (see `responder.intake.counts`); BadRow otherwise."""
    try:
        return read_count(value)
    except ValueError as exc:
        raise BadRow(str(exc)) from None


def _text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()  # a naive spreadsheet time is read in the office's zone
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    raise BadRow(f"{name} is not text: {json.dumps(value, ensure_ascii=False)[:60]}")


def _record(
    values: dict[str, Any], resolved: dict[str, str], cell_chars: int = LIMITS.import_cell_chars
) -> MentionRecord:
    got = {name: values.get(column) for name, column in resolved.items()}
    for name, value in got.items():
        if isinstance(value, str) and len(value) > cell_chars:
            raise BadRow(f"{name} longer than {cell_chars} characters (limits.import_cell_chars)")
    outlet = _text(got.get("outlet"), "outlet").strip()
    # A row's `source` is where the other platform found it (its site or media): that is what
    # yuqing calls the outlet. The mention's Source is the import itself.
    outlet = outlet or _text(got.get("source"), "source").strip()
    return MentionRecord(
        url=_text(got.get("url"), "url").strip(),
        text=_text(got.get("text"), "text"),
        title=_text(got.get("title"), "title"),
        author=_text(got.get("author"), "author").strip()[:MAX_NAME],
        outlet=outlet[:MAX_NAME],
        published=_text(got.get("published_at"), "published_at").strip(),
        reposts=parse_count(got.get("reposts")),
        comments=parse_count(got.get("comments")),
        likes=parse_count(got.get("likes")),
    )


# --- reading the three formats -------------------------------------------------------------


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

    def rows() -> Iterator[_Row]:
        with path.open(encoding=encoding) as f:
            for number, line in bounds.lines(f, limits.import_row_chars):
                where = f"line {number}"
                if number > limits.import_rows:
                    yield _Row(where, error=_too_many(limits.import_rows))
                    return
                if line is None:
                    yield _Row(where, error=_too_long(limits))
                    continue
                if not line.strip():
                    continue
                try:
                    obj = bounds.json_object(line)
                except json.JSONDecodeError as exc:
                    yield _Row(where, error=f"not JSON: {exc}")
                    continue
                except bounds.LimitExceeded as exc:
                    yield _Row(where, error=str(exc))
                    continue
                if not isinstance(obj, dict):
                    yield _Row(where, error="not a JSON object")
                    continue
                yield _Row(where, obj)

    return Table(path, "jsonl", list(columns), resolved, encoding, rows())


def _too_many(max_rows: int) -> str:
    return f"more than {max_rows} rows; this one and the rest not read (limits.import_rows)"


def _too_long(limits: LimitsSettings) -> str:
    return f"longer than {limits.import_row_chars} characters (limits.import_row_chars)"


def _tabular(
    numbered: Iterator[tuple[int, list[Any], str]], mapping: dict[str, str], max_rows: int
) -> tuple[list[str], dict[str, str], Iterator[_Row]]:
    """Find the header among the first rows, then yield the rows below it as dicts.

    `numbered` gives (row number, cells, why the row could not be read or "")."""
    problem: UnusableInput | None = None
    tried = 0
    for _number, cells, _error in numbered:
        if not any(_norm(c) for c in cells):
            continue
        header = [_text(c, "header") for c in cells]
        try:
            resolved = resolve_columns(header, mapping)
        except UnusableInput as exc:
            problem = problem or exc  # the first row's columns are the ones worth listing
            tried += 1
            if tried == HEADER_SEARCH_ROWS:
                break
            continue

        def rows(header: list[str] = header) -> Iterator[_Row]:
            read = 0
            for number, cells, error in numbered:
                read += 1
                if read > max_rows:
                    yield _Row(f"row {number}", error=_too_many(max_rows))
                    return
                if error:
                    yield _Row(f"row {number}", error=error)
                    continue
                if not any(_norm(c) for c in cells):
                    continue
                values: dict[str, Any] = {}
                for column, cell in zip(header, cells, strict=False):
                    values.setdefault(column, cell)
                yield _Row(f"row {number}", values)

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


class _Importer:
    def __init__(
        self,
        settings: Settings,
        summary: ImportSummary,
        resolved: dict[str, str],
        relevance: bool,
        source_id: int,
        run_id: int,
        say: Callable[[str], None],
    ) -> None:
        self.settings = settings
        self.summary = summary
        self.resolved = resolved
        self.relevance = relevance
        self.source_id = source_id
        self.run_id = run_id
        self.say = say

    def row(self, session: Session, row: _Row) -> None:
        summary = self.summary
        summary.read += 1
        try:
            if row.error:
                raise BadRow(row.error)
            self._store(session, row.values)
        except BadRow as exc:
            summary.bad_rows += 1
            self.say(f"{row.where}: skipped, {exc}")

    def _store(self, session: Session, values: dict[str, Any]) -> None:
        raw = _record(values, self.resolved, self.settings.limits.import_cell_chars)
        record = clean(raw, self.settings.tz, self.settings.privacy)
        if record is None:
            raise BadRow("no text (or under 10 characters)")
        if raw.published and record.published_at is None:
            raise BadRow(f"unreadable time {raw.published!r}")
        text = f"{record.title}\n{record.text}"
        if self.relevance and not nlp.is_relevant(text, self.settings.keywords):
            self.summary.not_relevant += 1
            return
        record.keywords_matched = nlp.match_keywords(text, self.settings.keywords)
        if not record.url:
            record.url = f"import:{content_hash(record.title, record.text)}"
        elif len(canonical_url(record.url)) > MAX_CANONICAL_URL:
            raise BadRow(f"URL longer than {MAX_CANONICAL_URL} characters")
        if store_mention(session, record, self.source_id, self.run_id) is None:
            self.summary.duplicates += 1
        else:
            self.summary.stored += 1

    def save_run(self, session: Session, finished: bool = False) -> None:
        run = session.get(CrawlRun, self.run_id)
        assert run is not None
        s = self.summary
        run.fetched = run.found = s.read
        run.stored = s.stored
        run.skipped = s.duplicates + s.not_relevant
        run.failed = s.bad_rows
        if finished:
            run.finished_at = clock.now()
            run.status = "ok" if s.read else "empty"
            if s.bad_rows:
                run.error = f"{s.bad_rows} bad rows in {s.file}"


def import_table(
    settings: Settings,
    db: Database,
    table: Table,
    *,
    source_name: str | None = None,
    relevance: bool = True,
    actor: str = "system",
    say: Callable[[str], None] = lambda _message: None,
) -> ImportSummary:
    """Store the mentions of an opened file; `say` gets bad rows, progress and notices."""
    path = table.path
    if table.encoding == "gb18030":
        say(f"{path.name}: not UTF-8, read as GB18030")
    summary = ImportSummary(
        file=path.name,
        format=table.format,
        encoding=table.encoding,
        source=source_name or f"导入:{path.name}",
        cycle_id=f"import-{uuid.uuid4().hex[:12]}",
        columns=table.resolved,
    )
    with db.transaction() as session:
        source = source_for(session, summary.source, "import", path.resolve().as_uri())
        run = CrawlRun(cycle_id=summary.cycle_id, source_id=source.id, worker=this_process())
        session.add(run)
        session.flush()
        importer = _Importer(settings, summary, table.resolved, relevance, source.id, run.id, say)

    rows = table.rows
    done = False
    while not done:
        with db.transaction() as session:
            for _ in range(BATCH_ROWS):
                row = next(rows, None)
                if row is None:
                    done = True
                    break
                importer.row(session, row)
                if summary.read % PROGRESS_EVERY == 0:
                    say(f"{summary.read} rows read, {summary.stored} stored")
            importer.save_run(session, finished=done)
            if done:
                audit.record(
                    session,
                    actor,
                    "mentions.import",
                    "crawl_run",
                    importer.run_id,
                    after={
                        "source": summary.source,
                        "read": summary.read,
                        "stored": summary.stored,
                        "duplicates": summary.duplicates,
                        "not_relevant": summary.not_relevant,
                        "bad_rows": summary.bad_rows,
                    },
                    detail=f"导入文件 {path.name}",
                )

    if summary.stored:
        with db.transaction() as session:
            summary.reprints = group_reprints(session, settings)
    return summary
