"""One-time submission tokens, invitation-code hashing and the per-client
rate limit. Nothing here writes anything that identifies a person: the
token's nonce is random, codes are stored as HMACs, and the rate-limit key
(an HMAC of the client address) lives only in the cache."""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core import signing
from django.core.cache import cache, caches
from django.utils.crypto import salted_hmac

from portal.cache import RedisCache
from portal.security import client_ip

TOKEN_SALT = "surveys.submission-token"  # noqa: S105 - a salt, not a secret
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 10


class TokenError(Exception):
    """The form's token is missing, forged or too old."""


@dataclass(frozen=True)
class Token:
    survey_id: int
    nonce_digest: str


@functools.cache
def _token_signer(key: str, fallback_keys: tuple) -> signing.TimestampSigner:
    # Django's `signing.dumps`/`loads` format with TOKEN_SALT; one signer
    # per set of keys, so a changed setting gets a new one.
    return signing.TimestampSigner(key=key, fallback_keys=fallback_keys, salt=TOKEN_SALT)


def _signer() -> signing.TimestampSigner:
    return _token_signer(settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))


def token_issue(survey) -> str:
    """A signed token for one rendering of the form: survey id, a random
    nonce and the date it was issued (never a time)."""
    return _signer().sign_object(
        {"s": survey.pk, "n": secrets.token_hex(16), "d": date.today().isoformat()},
        compress=True,
    )


def token_read(value: str, survey) -> Token:
    if not value or len(value) > 400:
        raise TokenError("missing")
    duration = max((survey.closes_at - survey.opens_at).total_seconds(), 86400)
    try:
        data = _signer().unsign_object(value, max_age=duration + 86400)
    except signing.SignatureExpired as exc:
        raise TokenError("expired") from exc
    except signing.BadSignature as exc:
        raise TokenError("invalid") from exc
    if (
        not isinstance(data, dict)
        or data.get("s") != survey.pk
        or not isinstance(data.get("n"), str)
    ):
        raise TokenError("invalid")
    return Token(survey.pk, hashlib.sha256(data["n"].encode()).hexdigest())


def code_normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").upper()


def code_hash(code: str) -> str:
    return salted_hmac(
        "surveys.invitation-code", code_normalise(code), algorithm="sha256"
    ).hexdigest()


def code_generate() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


@functools.cache
def parse_rate(rate: str) -> tuple[int, int]:
    """ "20/h" → (20, 3600). Units: s, m, h, d."""
    count, _, unit = rate.partition("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit.strip().lower()[:1] or "h"]
    return int(count), seconds


def client_address(request) -> str:
    """The client's address, trusting X-Forwarded-For only as far as
    PORTAL_TRUSTED_PROXY_COUNT says (the same rule as the login lockout)."""
    return client_ip(request) or ""


def rate_limit_exceeded(request, survey) -> bool:
    """Count one submission for this client and survey; True when over the
    limit. The key is an HMAC of address + survey + time bucket, kept in the
    cache only (never in the database, never logged)."""
    limit, window = parse_rate(getattr(settings, "SURVEY_RATE_LIMIT", "20/h"))
    bucket = int(time.time() // window)
    digest = hmac.new(
        settings.SECRET_KEY.encode(),
        f"{client_address(request)}|{survey.pk}|{bucket}".encode(),
        hashlib.sha256,
    ).hexdigest()
    return _count(f"surveys:rl:{digest}", window) > limit


# Add one to a counter and give a new counter its lifetime, atomically,
# in one command (a counter created by INCR alone would never expire).
_COUNT_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""
_count_script = None


def _count(key: str, window: int) -> int:
    """Add one to a counter that lives `window` seconds; the new count.

    On Redis this is one command (a script, sent by its digest once Redis
    knows it); other cache backends take the portable add + incr."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # While Redis cannot be reached nothing is counted (0): a resident
        # is not turned away for it, and the form's one-time token still
        # keeps each rendered form to one response.
        return backend.soft(_count_on_redis, 0, backend, key, window)
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window)
        return 1


def _count_on_redis(backend: RedisCache, key: str, window: int) -> int:
    full_key = backend.make_key(key)  # ours: "surveys:rl:" and hex, nothing to validate
    client = backend._cache.get_client(full_key, write=True)  # noqa: SLF001 - being rewritten (proxy)
    global _count_script
    if _count_script is None:
        _count_script = client.register_script(_COUNT_SCRIPT)
    count = _count_on_connection(client.connection_pool, full_key, window)
    if count is None:
        # The script is not in Redis (it restarted) or the connection
        # broke: redis-py's full path loads the script again and retries
        # on a new connection. (A command that reached Redis before the
        # connection broke has counted once already: one count too many,
        # as with redis-py's own retries.)
        count = _count_script(keys=[full_key], args=[window], client=client)
    return int(count)


class _Held(threading.local):
    """The connection this thread keeps for the counter, and whose it is."""

    pool = None
    connection = None
    pid = 0


_held = _Held()


def _count_on_connection(pool, key: str, window: int) -> int | None:
    """The script run by its digest on a connection this thread keeps for
    it, the command written and its one-line reply read on the socket.

    redis-py's command path (a connection taken from the pool and checked,
    the command packed, the reply parsed, the connection given back, retry
    wrappers, events, metrics) took about 100 µs of CPU per submission in a
    running server, more than the round trip itself. redis-py still makes
    the connection (address, password, database, TLS, timeouts). None when
    the reply is not a count (the script unknown after a restart, any error
    reply) or the connection fails; the caller then takes redis-py's path."""
    held = _held
    connection = held.connection
    if connection is None or held.pool is not pool or held.pid != os.getpid():
        # Taken from the pool once and kept; a forked child takes its own.
        connection = pool.get_connection()
        held.pool, held.connection, held.pid = pool, connection, os.getpid()
    name, seconds = key.encode(), str(window).encode()
    command = b"*5\r\n$7\r\nEVALSHA\r\n$40\r\n%s\r\n$1\r\n1\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
        _count_script.sha.encode(),
        len(name),
        name,
        len(seconds),
        seconds,
    )
    try:
        sock = connection._sock  # noqa: SLF001 - being rewritten (proxy)
        if sock is None:
            raise ConnectionResetError("not connected")
        sock.sendall(command)
        reply = sock.recv(64)
        while not reply.endswith(b"\r\n"):
            more = sock.recv(64)
            if not more:
                raise ConnectionResetError("closed by Redis")
            reply += more
    except BaseException as exc:
        # A reply left unread would answer the next command: the connection
        # goes back to the pool disconnected, and this thread takes another.
        connection.disconnect()
        pool.release(connection)
        held.connection = None
        if isinstance(exc, OSError):
            return None
        raise
    if reply[:1] == b":":
        return int(reply[1:-2])
    return None  # an error reply ("-NOSCRIPT ..."), one line, read in full
