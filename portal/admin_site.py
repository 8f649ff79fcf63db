import logging
from functools import wraps

from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import path
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from portal import scope, two_factor

logger = logging.getLogger(__name__)

CHANGED_MEANWHILE = _(
    "Nothing was saved: the data changed in the meantime (for example, a survey answer came in "
    "for what you were deleting). Reload the page and try again."
)


class OfficialAuthenticationForm(AdminAuthenticationForm):
    def confirm_login_allowed(self, user):
        if not user.is_active or not scope.is_official(user):
            raise ValidationError(
                _(
                    "This account is not a member of any organisation on the portal. "
                    "Ask the site administrator to add you."
                ),
                code="invalid_login",
            )


class PortalAdminSite(admin.AdminSite):
    site_header = _("Medborgarlöfte – administration")
    site_title = _("Medborgarlöfte")
    index_title = _("Pledges, surveys and follow-up")
    login_form = OfficialAuthenticationForm

    def has_permission(self, request):
        # Officials need no is_staff flag or model permissions: being a
        # member of an organisation (or a superuser) lets them in, and
        # portal.scope decides what they see there. With PORTAL_REQUIRE_2FA
        # they must also have given a code from their authenticator app.
        return scope.may_see_non_public(request.user)

    @method_decorator(never_cache)
    def login(self, request, extra_context=None):
        # Password given, code not yet: on to verification (or enrolment).
        if two_factor.needs_second_factor(request):
            return redirect(two_factor.second_factor_url(request))
        return super().login(request, extra_context)

    def admin_view(self, view, cacheable=False):
        """Every admin page. A POST runs in one transaction, so a change,
        its audit events and Django's log entries are saved together or
        not at all. A change the database refuses because the data changed
        meanwhile (an answer that came in for a choice or response being
        deleted: the triggers of surveys' migrations 0004 and 0005, or a
        unique value taken by someone else) is not a server error: nothing
        is saved and the official is told so on the same page."""
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def in_one_transaction(request, *args, **kwargs):
            if request.method != "POST":
                return inner(request, *args, **kwargs)
            try:
                with transaction.atomic():
                    return inner(request, *args, **kwargs)
            except IntegrityError as exc:
                logger.warning("An admin change refused by the database: %s", exc)
                messages.error(request, CHANGED_MEANWHILE)
                return HttpResponseRedirect(request.get_full_path())

        return in_one_transaction

    def get_urls(self):
        return [
            path("2fa/", two_factor.verify, name="2fa_verify"),
            path("2fa/registrera/", two_factor.enrol, name="2fa_enrol"),
            path("2fa/hantera/", two_factor.manage, name="2fa_manage"),
            *super().get_urls(),
        ]
