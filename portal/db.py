"""Checking a pooled PostgreSQL connection before a request uses it.

psycopg's own `ConnectionPool.check_connection` sends an empty query: a
round trip to the server on every request that touches the database, as
costly for the server as a small query. An idle connection in the pool has
nothing to read, so a glance at its socket tells the same story for free:
when the server has closed the connection (a restart, an administrator
terminating backends, an idle timeout) the socket is readable (end of
file or a last error message). Only then is the round trip made: it raises
for a dead connection, and for a live one that merely received a notice it
reads the notice and passes.

The same idea as the "connection check" of Go's MySQL driver: a connection
broken in a way the socket does not show (a cable pulled between two hosts)
is caught by the query itself, as it would be between check and query.
"""

from __future__ import annotations

import select

from psycopg import OperationalError
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool


def check_connection(conn) -> None:
    """Raise when `conn` cannot serve a request (psycopg pool's `check`)."""
    if conn.closed or conn.info.transaction_status != TransactionStatus.IDLE:
        raise OperationalError("the pooled connection is closed or not idle")
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    if poller.poll(0):
        ConnectionPool.check_connection(conn)
