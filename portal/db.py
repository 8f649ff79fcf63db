"""Checking a pooled PostgreSQL connection before a request uses it, and a
cursor for a statement worth preparing (`prepared_cursor`).

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

import psycopg
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
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


class _Prepared(psycopg.Cursor):
    """Parameters bound by the server, the statement prepared: PostgreSQL
    parses and plans it once per connection instead of on every call."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


def prepared_cursor(connection):
    """A Django cursor (query logging and execute wrappers as usual) whose
    statements run prepared on PostgreSQL; elsewhere the ordinary cursor.
    For a hot statement whose values are all placeholders: the ORM's own
    cursors bind on the client and are never prepared."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    wrapper = CursorDebugWrapper if connection.queries_logged else CursorWrapper
    return wrapper(_Prepared(connection.connection), connection)
