"""Small security helpers used by settings (django-axes)."""

from django.conf import settings


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
