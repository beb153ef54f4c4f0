"""PostgreSQL schema migrations, applied in order on open; the table
``telgate_schema`` holds, per component, how many have been applied. Append,
never edit a shipped one.

The same tables as SQLite's (cdr/migrations.py): times and durations are
microseconds since the epoch (BIGINT), the raw fields JSON. The cursor is the
``cdr_cursor_seq`` sequence (the BIGSERIAL of ``cdr.cursor``), which gap
notices draw from too, so every instance sharing the database hands out and
reads the same cursors."""

from __future__ import annotations

COMPONENT = "cdr"

MIGRATIONS: list[str] = [
    # 1: the schema SQLite reaches with its migrations 1 and 2.
    """
    CREATE TABLE cdr (
        cursor              BIGSERIAL PRIMARY KEY,
        backend             TEXT    NOT NULL,
        source_id           TEXT    NOT NULL,
        stored_at           BIGINT  NOT NULL,
        start_time          BIGINT  NOT NULL,
        answer_time         BIGINT,
        end_time            BIGINT,
        duration            BIGINT  NOT NULL,
        billable            BIGINT  NOT NULL,
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
        raw_fields          JSONB   NOT NULL,
        UNIQUE (backend, source_id)
    );
    CREATE INDEX cdr_start_time ON cdr (start_time);
    CREATE INDEX cdr_backend_end ON cdr (backend, end_time);
    CREATE TABLE cdr_meta (
        key   TEXT PRIMARY KEY,
        value BIGINT NOT NULL
    );
    INSERT INTO cdr_meta (key, value) VALUES ('pruned_through', 0);
    CREATE TABLE source_mark (
        name       TEXT PRIMARY KEY,
        value      TEXT   NOT NULL,
        updated_at BIGINT NOT NULL
    );
    CREATE TABLE cdr_gap (
        cursor      BIGINT PRIMARY KEY,
        backend     TEXT   NOT NULL,
        start_time  BIGINT NOT NULL,
        end_time    BIGINT NOT NULL,
        reason      TEXT   NOT NULL,
        detail      TEXT   NOT NULL,
        stored_at   BIGINT NOT NULL
    );
    """,
    # 2: SQLite's 3: each CDR as the API's message, encoded when stored.
    """
    ALTER TABLE cdr ADD COLUMN wire_version INTEGER NOT NULL DEFAULT 0,
                    ADD COLUMN wire BYTEA;
    """,
]
