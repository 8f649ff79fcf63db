"""The pool's connection check (portal/db.py) on a real PostgreSQL server:
no round trip for a healthy idle connection, a refused connection when the
server has closed it, and a pool that replaces such a connection by
itself."""

import select
import time
from unittest import mock

import psycopg
import pytest
from django.db import connection
from psycopg_pool import ConnectionPool

from portal import db

pytestmark = pytest.mark.django_db


@pytest.fixture
def conninfo():
    s = connection.settings_dict
    return psycopg.conninfo.make_conninfo(
        dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"], host=s["HOST"], port=s["PORT"]
    )


def _terminate(conninfo, conn):
    """Have the server close `conn`, and wait until its socket shows it."""
    with psycopg.connect(conninfo, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    assert poller.poll(5000), "the server did not close the connection"


def test_a_healthy_idle_connection_passes_without_a_round_trip(conninfo):
    with psycopg.connect(conninfo, autocommit=True) as conn:
        with mock.patch.object(ConnectionPool, "check_connection") as round_trip:
            db.check_connection(conn)
        round_trip.assert_not_called()


def test_a_connection_the_server_closed_is_refused(conninfo):
    with psycopg.connect(conninfo, autocommit=True) as conn:
        _terminate(conninfo, conn)
        with pytest.raises(psycopg.OperationalError):
            db.check_connection(conn)


def test_a_connection_left_in_a_transaction_or_closed_is_refused(conninfo):
    with psycopg.connect(conninfo) as conn:
        conn.execute("SELECT 1")
        with pytest.raises(psycopg.OperationalError):
            db.check_connection(conn)
    with pytest.raises(psycopg.OperationalError):
        db.check_connection(conn)


def test_a_live_connection_with_something_to_read_passes(conninfo):
    """A notification waiting on the socket is not a dead server: the check
    makes its round trip, reads it and lets the connection through."""
    with (
        psycopg.connect(conninfo, autocommit=True) as conn,
        psycopg.connect(conninfo, autocommit=True) as other,
    ):
        conn.execute("LISTEN portal_check")
        other.execute("NOTIFY portal_check")
        time.sleep(0.1)
        db.check_connection(conn)
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_the_pool_replaces_a_connection_the_server_closed(conninfo):
    with ConnectionPool(
        conninfo, min_size=1, max_size=1, check=db.check_connection, open=True
    ) as pool:
        with pool.connection() as conn:
            first = conn.info.backend_pid
            _terminate(conninfo, conn)
        with pool.connection() as conn:
            assert conn.execute("SELECT pg_backend_pid()").fetchone()[0] != first


def test_the_portals_connections_run_without_jit(conninfo):
    """JIT compilation cost more than a typical results query's own work
    (portal/settings.py)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
