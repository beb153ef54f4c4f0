"""The `cdr` table as Issabel and FreePBX keep it: MariaDB/MySQL database
`asteriskcdrdb` (cdr_mysql or cdr_adaptive_odbc), read with aiomysql."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiomysql

from telgate_server.backends.ami.cdr_backfill.rows import Row


class MysqlCdrRecords:
    """Rows of the `cdr` table of one MariaDB / MySQL database."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        user: str,
        password: Callable[[], str],
        database: str,
        table: str,
        unix_socket: Path | None = None,
        connect_timeout: float = 5.0,
    ) -> None:
        # Read at each connect, so a rotated password file is picked up.
        self._password = password
        self._connect: dict[str, Any] = {
            "host": host,
            "port": port,
            "user": user,
            "db": database,
            "connect_timeout": connect_timeout,
            "charset": "utf8mb4",
            "autocommit": True,
        }
        if unix_socket is not None:
            self._connect["unix_socket"] = str(unix_socket)
        self.table = table
        where = str(unix_socket) if unix_socket is not None else f"{host}:{port}"
        # No password here: this text goes into logs and gap notices.
        self.description = f"mysql {user}@{where}/{database}.{table}"

    async def ending_since(self, since: str, started_from: str) -> list[Row]:
        """Rows that started at or after ``started_from`` (the calldate index)
        and ended (calldate + duration) at or after ``since``."""
        conn = await aiomysql.connect(password=self._password(), **self._connect)
        try:
            async with conn.cursor(aiomysql.DictCursor) as cur:
                await cur.execute(
                    f"SELECT * FROM `{self.table}` WHERE calldate >= %s AND "
                    "calldate + INTERVAL duration SECOND >= %s",
                    (started_from, since),
                )
                rows: list[Row] = list(await cur.fetchall())
                return rows
        finally:
            conn.close()

    async def close(self) -> None:
        """Nothing held between reads (one connection per backfill)."""
