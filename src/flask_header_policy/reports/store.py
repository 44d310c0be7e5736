"""Where reports are kept: two tables, on any database SQLAlchemy speaks.

SQLAlchemy Core only (no ORM, no Flask-SQLAlchemy). ``header_policy_reports``
has one row per fingerprint with its count and first/last seen;
``header_policy_report_counters`` counts what was dropped and why. A batch is
written in one transaction: one upsert statement for the fingerprints
(``INSERT … ON CONFLICT DO UPDATE`` on SQLite and PostgreSQL, ``ON DUPLICATE
KEY UPDATE`` on MySQL/MariaDB, update-then-insert elsewhere) and one for the
counters, so concurrent workers and hosts add up their counts without losing
any.

SQLite (the default, a file in the app's instance folder) runs in WAL mode
with a busy timeout, so the workers of one machine can share it.
"""

from __future__ import annotations

import collections.abc as cabc
import datetime
import os
import typing as t

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.engine import make_url

from .collect import Report

__all__ = [
    "CommitUncertain",
    "ReportStore",
    "counters",
    "metadata",
    "reports",
    "upsert_statement",
]

metadata = sa.MetaData()

#: One row per fingerprint.
reports = sa.Table(
    "header_policy_reports",
    metadata,
    sa.Column("fingerprint", sa.String(32), primary_key=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("endpoint", sa.String(255)),
    sa.Column("rule", sa.String(1024)),
    sa.Column("layer", sa.String(255)),
    sa.Column("header", sa.String(64)),
    sa.Column("directive", sa.String(100), nullable=False),
    sa.Column("blocked", sa.String(1100), nullable=False),
    sa.Column("disposition", sa.String(16), nullable=False),
    sa.Column("browser", sa.String(16), nullable=False),
    # The latest example of each: they vary within a fingerprint.
    sa.Column("document_url", sa.String(2100), nullable=False),
    sa.Column("blocked_url", sa.String(1100), nullable=False),
    sa.Column("source_file", sa.String(1100), nullable=False),
    sa.Column("sample", sa.String(100), nullable=False),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
)
sa.Index("header_policy_reports_last_seen", reports.c.last_seen)

#: Reports dropped (noise, rate limits, errors) and received, by reason.
counters = sa.Table(
    "header_policy_report_counters",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
)


class CommitUncertain(Exception):
    """The commit itself failed: the batch may or may not be stored, so it
    must not be written again (it could be counted twice)."""


_EXAMPLES = ("document_url", "blocked_url", "source_file", "sample")


def _utc(value: datetime.datetime) -> datetime.datetime:
    # SQLite keeps no time zone: every time stored here is UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC)


#: The length of each bounded text column: a longer value is cut to it, so
#: that no report can fail a batch (PostgreSQL and MySQL refuse text longer
#: than a VARCHAR, and one such row would drop every report written with it).
_LENGTHS: dict[str, int] = {
    column.name: column.type.length
    for column in reports.columns
    if isinstance(column.type, sa.String) and column.type.length is not None
}


def _fit(row: dict[str, t.Any]) -> dict[str, t.Any]:
    for name, length in _LENGTHS.items():
        value = row.get(name)
        if isinstance(value, str) and len(value) > length:
            row[name] = value[:length]
    return row


def _rows(batch: cabc.Iterable[Report]) -> list[dict[str, t.Any]]:
    """One row per fingerprint: counts summed, first and last seen, the
    latest examples (a multi-row upsert may touch each row once only), each
    text cut to its column's length."""
    rows: dict[str, dict[str, t.Any]] = {}
    for report in batch:
        key = report.fingerprint
        row = rows.get(key)
        when = _utc(report.time)
        if row is None:
            rows[key] = {
                "fingerprint": key,
                "type": report.type,
                "endpoint": report.endpoint,
                "rule": report.rule,
                "layer": report.layer,
                "header": report.header,
                "directive": report.directive,
                "blocked": report.blocked,
                "disposition": report.disposition,
                "browser": report.browser,
                "document_url": report.document_url,
                "blocked_url": report.blocked_url,
                "source_file": report.source_file,
                "sample": report.sample,
                "count": 1,
                "first_seen": when,
                "last_seen": when,
            }
            continue
        row["count"] += 1
        row["first_seen"] = min(row["first_seen"], when)
        if when >= row["last_seen"]:
            row["last_seen"] = when
            for name in _EXAMPLES:
                row[name] = getattr(report, name)
    # Every writer locks rows in the same order, so two concurrent upserts of
    # the same fingerprints wait for each other instead of deadlocking.
    return [_fit(rows[key]) for key in sorted(rows)]


class ReportStore:
    """The reports database of one app.

    :param url: a SQLAlchemy URL (``sqlite:////path/reports.sqlite3``,
        ``postgresql+psycopg://user@host/db``).
    :param engine_options: passed to :func:`sqlalchemy.create_engine`, over
        the defaults chosen here.
    """

    def __init__(
        self, url: str | sa.URL, engine_options: cabc.Mapping[str, t.Any] | None = None
    ) -> None:
        self.url = make_url(url)
        self._options = dict(engine_options or {})
        self._engine: Engine | None = None
        self._created = False

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    def exists(self) -> bool:
        """Whether there may be reports to read: ``False`` for a SQLite file
        that was never created (reading must not create it)."""
        if not self.is_sqlite:
            return True
        database = self.url.database
        return not database or database == ":memory:" or os.path.exists(database)

    @property
    def engine(self) -> Engine:
        """The engine, made on first use (the SQLite folder too)."""
        if self._engine is None:
            self._engine = self._make_engine()
        return self._engine

    def _make_engine(self) -> Engine:
        options: dict[str, t.Any] = {"pool_pre_ping": True}
        backend = self.url.get_backend_name()
        if backend == "sqlite":
            database = self.url.database
            if database and database != ":memory:":
                os.makedirs(os.path.dirname(os.path.abspath(database)), exist_ok=True)
            options["connect_args"] = {"timeout": 5.0}
        elif backend == "postgresql" and self.url.get_driver_name() in (
            "psycopg", "psycopg2",
        ):  # fmt: skip
            # A database that does not answer must not hold the writer for long.
            options["connect_args"] = {"connect_timeout": 5}
        options.update(self._options)
        engine = sa.create_engine(self.url, **options)
        if backend == "sqlite":

            @sa.event.listens_for(engine, "connect")
            def _sqlite_pragmas(connection: t.Any, record: t.Any) -> None:
                cursor = connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA busy_timeout=5000")
                cursor.close()

        return engine

    def create(self) -> None:
        """Create the tables if they are missing (once per store)."""
        if self._created:
            return
        try:
            metadata.create_all(self.engine, checkfirst=True)
        except sa.exc.DBAPIError:
            # Another worker created them between the check and the CREATE.
            if not sa.inspect(self.engine).has_table(reports.name):
                raise
        self._created = True

    def dispose(self) -> None:
        """Close every pooled connection."""
        if self._engine is not None:
            self._engine.dispose()

    # Writing.

    def write(
        self, batch: cabc.Sequence[Report], counts: cabc.Mapping[str, int] | None = None
    ) -> None:
        """Add ``batch`` and the counter increments ``counts`` in one
        transaction: all of it is counted, or (on error) none of it.

        :raise ~flask_header_policy.reports.store.CommitUncertain: the
            commit failed (the connection broke while committing): the
            outcome is unknown. Any other error means nothing was stored.
        """
        self.create()
        rows = _rows(batch)
        increments = [
            {"name": name, "count": n}
            for name, n in sorted((counts or {}).items())
            if n
        ]
        if not rows and not increments:
            return
        with self.engine.connect() as connection:
            transaction = connection.begin()
            try:
                if rows:
                    self._upsert_reports(connection, rows)
                if increments:
                    self._upsert_counters(connection, increments)
            except BaseException:
                transaction.rollback()
                raise
            try:
                transaction.commit()
            except sa.exc.DBAPIError as error:
                if self.is_sqlite:
                    # A local file: a failed COMMIT (busy) stored nothing.
                    transaction.rollback()
                    raise
                raise CommitUncertain(str(error)) from error

    def _upsert_reports(
        self, connection: sa.Connection, rows: list[dict[str, t.Any]]
    ) -> None:
        statement = upsert_statement(connection.dialect.name, rows)
        if statement is None:
            self._update_then_insert(connection, rows)
        else:
            connection.execute(statement)

    @staticmethod
    def _update_then_insert(
        connection: sa.Connection, rows: list[dict[str, t.Any]]
    ) -> None:
        """For databases without an upsert SQLAlchemy knows: portable, one
        statement per row, under the batch's transaction."""
        for row in rows:
            updated = connection.execute(
                sa.update(reports)
                .where(reports.c.fingerprint == row["fingerprint"])
                .values(
                    count=reports.c["count"] + row["count"],
                    last_seen=sa.case(
                        (reports.c.last_seen < row["last_seen"], row["last_seen"]),
                        else_=reports.c.last_seen,
                    ),
                )
            )
            if updated.rowcount == 0:
                connection.execute(sa.insert(reports).values(row))

    def _upsert_counters(
        self, connection: sa.Connection, increments: list[dict[str, t.Any]]
    ) -> None:
        name = connection.dialect.name
        if name in ("sqlite", "postgresql"):
            insert = _dialect_insert(name)(counters).values(increments)
            connection.execute(
                insert.on_conflict_do_update(
                    index_elements=[counters.c.name],
                    set_={"count": counters.c["count"] + insert.excluded["count"]},
                )
            )
            return
        for row in increments:
            updated = connection.execute(
                sa.update(counters)
                .where(counters.c.name == row["name"])
                .values(count=counters.c["count"] + row["count"])
            )
            if updated.rowcount == 0:
                connection.execute(sa.insert(counters).values(row))

    # Reading.

    def fingerprints(
        self,
        *,
        since: datetime.datetime | None = None,
        route: str | None = None,
        limit: int = 10_000,
    ) -> list[dict[str, t.Any]]:
        """Fingerprints, most recently seen first.

        :param since: only those seen at or after this time.
        :param route: only those of this endpoint or URL rule.
        :param limit: at most this many rows.
        """
        if not self.exists():
            return []
        self.create()
        query = sa.select(reports).order_by(
            reports.c.last_seen.desc(), reports.c.fingerprint
        )
        if since is not None:
            query = query.where(reports.c.last_seen >= _utc(since))
        if route is not None:
            query = query.where(
                sa.or_(reports.c.endpoint == route, reports.c.rule == route)
            )
        with self.engine.connect() as connection:
            result = connection.execute(query.limit(limit))
            rows = [dict(row._mapping) for row in result]
        for row in rows:
            row["first_seen"] = _utc(row["first_seen"])
            row["last_seen"] = _utc(row["last_seen"])
        return rows

    def counters(self) -> dict[str, int]:
        """Every counter: reports received, dropped and why."""
        if not self.exists():
            return {}
        self.create()
        with self.engine.connect() as connection:
            result = connection.execute(sa.select(counters.c.name, counters.c["count"]))
            return {name: int(count) for name, count in result}

    def total(self) -> int:
        """How many reports are stored (the sum of every fingerprint's count)."""
        if not self.exists():
            return 0
        self.create()
        with self.engine.connect() as connection:
            value = connection.execute(
                sa.select(sa.func.coalesce(sa.func.sum(reports.c["count"]), 0))
            ).scalar_one()
        return int(value)


def upsert_statement(
    dialect: str, rows: list[dict[str, t.Any]]
) -> sa.Executable | None:
    """The one statement that adds ``rows`` (one per fingerprint) to
    :data:`reports`, summing counts; ``None`` when the dialect has no upsert
    SQLAlchemy knows (then :meth:`ReportStore.write` updates, then inserts).

    The examples (document URL, blocked URL, source file, sample) follow the
    latest report, whatever order batches arrive in.
    """
    if dialect in ("sqlite", "postgresql"):
        insert = _dialect_insert(dialect)(reports).values(rows)
        excluded = insert.excluded
        later = excluded.last_seen > reports.c.last_seen
        return t.cast(
            sa.Executable,
            insert.on_conflict_do_update(
                index_elements=[reports.c.fingerprint],
                set_={
                    "count": reports.c["count"] + excluded["count"],
                    "last_seen": sa.case(
                        (later, excluded.last_seen), else_=reports.c.last_seen
                    ),
                    "first_seen": sa.case(
                        (
                            excluded.first_seen < reports.c.first_seen,
                            excluded.first_seen,
                        ),
                        else_=reports.c.first_seen,
                    ),
                    **{
                        column: sa.case(
                            (later, excluded[column]), else_=reports.c[column]
                        )
                        for column in _EXAMPLES
                    },
                },
            ),
        )
    if dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        insert = mysql_insert(reports).values(rows)
        return insert.on_duplicate_key_update(
            count=reports.c["count"] + insert.inserted["count"],
            last_seen=sa.func.greatest(reports.c.last_seen, insert.inserted.last_seen),
            first_seen=sa.func.least(reports.c.first_seen, insert.inserted.first_seen),
        )
    return None


def _dialect_insert(name: str) -> t.Any:
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    from sqlalchemy.dialects.postgresql import insert as postgresql_insert

    return postgresql_insert
