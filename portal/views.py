from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal import security
from portal.forms import FeedbackForm
from portal.models import Municipality
from portal.page_cache import cached_public_page


@cached_public_page
def home(request):
    municipalities = list(Municipality.objects.only("name", "short_name", "slug"))
    return render(request, "portal/home.html", {"municipalities": municipalities})


@cached_public_page
def about(request):
    return render(request, "portal/about.html")


# Feedback messages per client address and hour: a person with a problem
# writes a few; a script sending hundreds is stopped.
FEEDBACK_RATE = (10, 3600)


@require_http_methods(["GET", "POST"])
def accessibility(request):
    if request.method == "POST":
        form = FeedbackForm(request.POST)
        limit, window = FEEDBACK_RATE
        if security.rate_limited(request, name="feedback", limit=limit, window=window):
            form.is_valid()
            form.add_error(
                None,
                _(
                    "Nothing was sent: many messages have come from your network in a short "
                    "time. Try again in an hour, or e-mail us instead."
                ),
            )
            return render(request, "portal/accessibility.html", {"form": form}, status=429)
        if form.is_valid():
            form.save()
            return redirect("portal:accessibility_thanks")
    else:
        form = FeedbackForm(initial={"page": request.GET.get("sida", "")[:500]})
    return render(
        request, "portal/accessibility.html", {"form": form}, status=400 if form.errors else 200
    )


def accessibility_thanks(request):
    return render(request, "portal/accessibility_thanks.html")


@never_cache
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def language(request, code):
    """Switch the interface language with a plain link (no form, no session):
    the choice is kept in Django's language cookie."""
    if code not in dict(settings.LANGUAGES):
        code = settings.LANGUAGE_CODE
    next_url = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = "/"
    response = redirect(next_url)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=True,
    )
    return response
