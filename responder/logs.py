"""Logging for every yuqing process: readable text by default, or one JSON object per line
for a log collector (`log_format = "json"`), each record carrying the run id of the cycle it
belongs to.

The run id lives in a context variable, so a record logged anywhere inside `in_run(...)` —
the classification job, triage, the sender — names its cycle, also when the scheduler runs
several cycles at once in its threads. A filter on the handler copies it onto every record,
including records of libraries that know nothing of it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO

__all__ = [
    "JsonFormatter",
    "LogHandler",
    "RunIdFilter",
    "TextFormatter",
    "current_run",
    "in_run",
    "setup",
]

_run_id: ContextVar[str | None] = ContextVar("yuqing_run_id", default=None)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(run_tag)s: %(message)s"


def current_run() -> str | None:
    return _run_id.get()


@contextmanager
def in_run(run_id: str) -> Iterator[None]:
    """Records logged inside this block (in this thread or task) carry `run_id`."""
    token = _run_id.set(run_id)
    try:
        yield
    finally:
        _run_id.reset(token)


class RunIdFilter(logging.Filter):
    """Sets `record.run_id` (None outside a run) and `record.run_tag` (" [id]" or "")."""

    def filter(self, record: logging.LogRecord) -> bool:
        run_id = getattr(record, "run_id", None) or _run_id.get()
        record.run_id = run_id
        record.run_tag = f" [{run_id}]" if run_id else ""
        return True


_ACK_TOKEN = re.compile(r"(/ack/)[^\s/?\"']+")


class LinkTokenFilter(logging.Filter):
    """Hides the token of acknowledgement links in records (uvicorn's access log writes each
    request's path): whoever reads the log must not be able to acknowledge a notice."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _ACK_TOKEN.sub(r"\1…", record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                _ACK_TOKEN.sub(r"\1…", a) if isinstance(a, str) else a for a in record.args
            )
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "run_tag"):  # a handler without the filter
            record.run_tag = ""
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, run_id when
    inside a run, and the exception's traceback when there is one. Newlines in a message stay
    inside the JSON string, so a line is always one record."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        run_id = getattr(record, "run_id", None) or _run_id.get()
        if run_id:
            line["run_id"] = run_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class LogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """yuqing's handler: the run id filter and the chosen format. Without a stream it writes
    to whatever `sys.stderr` is when a record comes (as `logging.lastResort` does), so a
    replaced or restored standard error never leaves it writing to a closed file."""

    def __init__(self, fmt: str = "text", stream: IO[str] | None = None) -> None:
        super().__init__(stream)
        self._own_stream = stream
        self.addFilter(RunIdFilter())
        self.addFilter(LinkTokenFilter())
        self.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())

    @property  # type: ignore[override]
    def stream(self) -> IO[str]:
        return self._own_stream or sys.stderr

    @stream.setter
    def stream(self, value: IO[str] | None) -> None:
        self._own_stream = value


def setup(level: str = "INFO", fmt: str = "text", stream: IO[str] | None = None) -> None:
    """Send every record at `level` and above to `stream` (standard error) in `fmt`.

    Replaces a handler an earlier call installed, so calling it again does not print each
    line twice. Like `logging.basicConfig`, it leaves alone a root logger that someone else
    gave handlers (a test runner, an application embedding yuqing).
    """
    root = logging.getLogger()
    if not any(not isinstance(h, LogHandler) for h in root.handlers):
        for old in list(root.handlers):
            root.removeHandler(old)
        root.addHandler(LogHandler(fmt, stream))
        root.setLevel(level.upper())
    # Alembic reports every plugin and context at INFO on each start; only problems matter.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
