from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    default = True
    name = "portal"
    verbose_name = _("Portal")

    def ready(self):
        from portal import audit

        audit.connect_signals()


class PortalAdminConfig(admin_apps.AdminConfig):
    """The Django admin, with our site: officials log in through their membership."""

    default = False
    default_site = "portal.admin_site.PortalAdminSite"
