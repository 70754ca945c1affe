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

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.orm import Session

import nlp
from responder import audit
from responder.audit import AuditAction
from responder.db import Database
from responder.intake.columns import MAX_CANONICAL_URL, BadRow, read_record
from responder.intake.crawl_runs import RunCounts, RunStatus, finish_run, open_run, record_counts
from responder.intake.mentions import canonical_url, clean, content_hash, source_for
from responder.intake.mentions import store as store_mention
from responder.intake.reprints import group_reprints
from responder.intake.tables import BATCH_ROWS, PROGRESS_EVERY, Row, Table
from responder.settings import Settings


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

    def row(self, session: Session, row: Row) -> None:
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
        raw = read_record(values, self.resolved, self.settings.limits.import_cell_chars)
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
        s = self.summary
        counts = RunCounts(
            fetched=s.read,
            found=s.read,
            stored=s.stored,
            skipped=s.duplicates + s.not_relevant,
            failed=s.bad_rows,
        )
        if not finished:
            record_counts(session, self.run_id, counts)
            return
        # An import lists nothing when its file has no rows: the same "empty" as a source.
        status = RunStatus.OK if s.read else RunStatus.EMPTY
        error = f"{s.bad_rows} bad rows in {s.file}" if s.bad_rows else None
        finish_run(session, self.run_id, status, counts, error)


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
        run_id = open_run(session, summary.cycle_id, source.id)
        importer = _Importer(settings, summary, table.resolved, relevance, source.id, run_id, say)

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
                    AuditAction.MENTIONS_IMPORT,
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
