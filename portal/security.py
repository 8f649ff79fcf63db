"""Small security helpers used by settings (django-axes) and the public
feedback form's rate limit."""

import hashlib
import hmac
import time

from django.conf import settings
from django.core.cache import cache


def client_ip(request) -> str | None:
    """The client's address for lockouts (django-axes).

    Without a trusted proxy it is the connection's address. Behind
    PORTAL_TRUSTED_PROXY_COUNT reverse proxies that each append to
    X-Forwarded-For, it is that many entries from the right: entries further
    left were written by the client and cannot be trusted.
    """
    count = settings.PORTAL_TRUSTED_PROXY_COUNT
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if count > 0 and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login: a Swedish page, 429."""
    from django.shortcuts import render

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "portal/lockout.html",
        {"cooloff_minutes": minutes},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


def rate_limited(request, *, name: str, limit: int, window: int) -> bool:
    """Count one request of this client for `name`; True when over `limit`
    within `window` seconds. The same keying as the survey's limit
    (surveys.security.rate_limit_exceeded, which portal, below surveys,
    cannot import): an HMAC of address + name + time bucket, in the cache
    only. While the cache is away nobody is limited."""
    bucket = int(time.time() // window)
    digest = hmac.new(
        settings.SECRET_KEY.encode(),
        f"{client_ip(request) or ''}|{name}|{bucket}".encode(),
        hashlib.sha256,
    ).hexdigest()
    key = f"portal:rl:{digest}"
    try:
        if cache.add(key, 1, timeout=window):
            return limit < 1
        return cache.incr(key) > limit
    except Exception:
        return False
