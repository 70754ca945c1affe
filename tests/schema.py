"""What differs between the models and a migrated database, as alembic's autogenerate sees it.

Left out of the comparison: the search index's tables, made by the migration outside the
models (tests/test_search.py checks them), and expression indexes, which SQLAlchemy cannot
reflect on SQLite (it warns and skips them) and PostgreSQL reflects in its own spelling. Their
presence is checked by name instead (`expression_indexes`), and their use by the planner in
tests/test_migrations.py.
"""

from __future__ import annotations

import warnings
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Engine, MetaData, text
from sqlalchemy.exc import SAWarning

from responder.intake import search
from responder.models import Base

EXPRESSION_INDEXES = {
    index.name
    for table in Base.metadata.tables.values()
    for index in table.indexes
    if any(not isinstance(e, Column) for e in index.expressions)
}

UNREFLECTED = "Skipped unsupported reflection of expression-based index"


def _compared(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "index" and name in EXPRESSION_INDEXES:
        return False
    # The search index is created by the migration per backend, outside the models (an FTS5
    # table and its shadow tables on SQLite); tests/test_search.py checks it.
    return not (type_ == "table" and (name or "").startswith(search.TABLE))


def reflected(engine: Engine) -> MetaData:
    """The database's tables as reflection sees them (expression indexes left out)."""
    meta = MetaData()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", UNREFLECTED, SAWarning)
        meta.reflect(engine)
    return meta


def schema_diff(engine: Engine) -> list[Any]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", UNREFLECTED, SAWarning)
        warnings.filterwarnings(
            "ignore", "autogenerate skipping metadata-specified expression-based index"
        )
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_object": _compared})
            return list(compare_metadata(context, Base.metadata))


def expression_indexes(engine: Engine) -> set[str]:
    """The names of the expression indexes the database has."""
    if engine.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'index'"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    with engine.connect() as conn:
        names = set(conn.scalars(text(query)))
    return names & EXPRESSION_INDEXES
