"""SQLite schema migrations, applied in order on open; ``PRAGMA user_version``
holds the number of migrations applied. Append, never edit a shipped one."""

from __future__ import annotations

# Times are microseconds since the epoch (UTC), durations microseconds.
MIGRATIONS: list[str] = [
    # 1: CDRs with cursors, (backend, source_id) unique; store metadata; source marks.
    """
    CREATE TABLE cdr (
        cursor              INTEGER PRIMARY KEY AUTOINCREMENT,
        backend             TEXT    NOT NULL,
        source_id           TEXT    NOT NULL,
        stored_at           INTEGER NOT NULL,
        start_time          INTEGER NOT NULL,
        answer_time         INTEGER,
        end_time            INTEGER,
        duration            INTEGER NOT NULL,
        billable            INTEGER NOT NULL,
        disposition         TEXT    NOT NULL,
        direction           TEXT    NOT NULL,
        caller_number       TEXT    NOT NULL,
        caller_name         TEXT    NOT NULL,
        callee              TEXT    NOT NULL,
        cost                TEXT    NOT NULL,
        currency            TEXT    NOT NULL,
        trunk               TEXT    NOT NULL,
        codec               TEXT    NOT NULL,
        country             TEXT    NOT NULL,
        recording           TEXT    NOT NULL,
        linked_call_id      TEXT    NOT NULL,
        channel             TEXT    NOT NULL,
        destination_channel TEXT    NOT NULL,
        account_code        TEXT    NOT NULL,
        raw_fields          TEXT    NOT NULL,
        UNIQUE (backend, source_id)
    );
    CREATE INDEX cdr_start_time ON cdr (start_time);
    CREATE TABLE cdr_meta (
        key   TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO cdr_meta (key, value) VALUES ('pruned_through', 0);
    CREATE TABLE source_mark (
        name       TEXT PRIMARY KEY,
        value      TEXT    NOT NULL,
        updated_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    """,
    # 2: windows where CDRs may be missing (cursors from the cdr sequence), and
    # an index for "the last CDR of a backend" (where a backfill starts).
    """
    CREATE TABLE cdr_gap (
        cursor      INTEGER PRIMARY KEY,
        backend     TEXT    NOT NULL,
        start_time  INTEGER NOT NULL,
        end_time    INTEGER NOT NULL,
        reason      TEXT    NOT NULL,
        detail      TEXT    NOT NULL,
        stored_at   INTEGER NOT NULL
    );
    CREATE INDEX cdr_backend_end ON cdr (backend, end_time);
    """,
    # 3: each CDR as the API's message, encoded when stored (``wire``, NULL
    # for rows stored before), and the encoding's version: replay sends it as is.
    """
    ALTER TABLE cdr ADD COLUMN wire_version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE cdr ADD COLUMN wire BLOB;
    """,
]
