from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portal import scope


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
        # portal.scope decides what they see there.
        return scope.is_official(request.user)
