"""Backfill of Asterisk CDRs from the PBX's own records (the `cdr` table of
Issabel / FreePBX in MariaDB, or a cdr_sqlite3_custom file), for the window in
which the gateway was not connected and so got no `Cdr` events.

The records get the same source id as the AMI `Cdr` event of the same call
(rows.py), so the store keeps each CDR once whichever way it came."""

from telgate_server.backends.ami.cdr_backfill.backfill import AsteriskBackfill, build_backfill

__all__ = ["AsteriskBackfill", "build_backfill"]
