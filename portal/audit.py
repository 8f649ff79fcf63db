"""The audit log: who did what, and when, readable by site administrators.

Every admin change, login, failed login, lockout and change of two-factor
devices leaves an `AuditEvent`; other apps call `log_event()` explicitly for
their own milestones (a pledge's adoption or publication). Rows are never
changed or deleted through the portal.

No IP address is stored: the log answers "which account did this", and the
address adds personal data without telling a site administrator anything
they can act on. (django-axes keeps the address of recent *failed* attempts
for as long as a lockout needs it.)
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import signals as auth_signals
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    """Known actions. Other apps may log their own action names; these are the
    ones the portal itself writes (and names in the admin's filter)."""

    LOGIN = "login", _("login")
    LOGIN_FAILED = "login_failed", _("failed login")
    LOGOUT = "logout", _("logout")
    LOCKOUT = "lockout", _("locked out after failed logins")
    OTP_ENROLLED = "2fa_enrolled", _("two-factor login set up")
    OTP_REMOVED = "2fa_removed", _("two-factor login removed")
    OTP_FAILED = "2fa_failed", _("wrong two-factor code")
    RECOVERY_CODE_USED = "2fa_recovery_code_used", _("recovery code used")
    RECOVERY_CODES_RENEWED = "2fa_recovery_codes_renewed", _("new recovery codes created")
    ADMIN_ADD = "admin_add", _("added in the admin")
    ADMIN_CHANGE = "admin_change", _("changed in the admin")
    ADMIN_DELETE = "admin_delete", _("deleted in the admin")
    ADOPTION = "adoption", _("adoption")
    PUBLICATION = "publication", _("publication")
    RETENTION = "retention", _("retention (deletion of survey data)")


class AuditEventQuerySet(models.QuerySet):
    def for_object(self, obj: models.Model) -> AuditEventQuerySet:
        return self.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))


class AuditEvent(models.Model):
    created = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    # Kept as text too: the log must still say who it was after the account
    # is deleted, and a failed login names an account that may not exist.
    actor_username = models.CharField(_("username"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=40, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    municipality = models.ForeignKey(
        "portal.Municipality",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("municipality"),
    )
    details = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        app_label = "portal"
        ordering = ["-created", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        who = self.actor_username or "–"
        return f"{self.created:%Y-%m-%d %H:%M} {who}: {self.action_label}"

    @property
    def action_label(self) -> str:
        try:
            return str(Action(self.action).label)
        except ValueError:
            return self.action


def log_event(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    municipality=None,
    **details: Any,
) -> AuditEvent:
    """Record one event. `actor` is a user, None or AnonymousUser;
    `municipality` a Municipality or its id (taken from `obj` when it has a
    `municipality` of its own or is one); `details` must be JSON-serialisable
    and must not contain passwords, codes or addresses."""
    event = build_event(actor=actor, action=action, obj=obj, municipality=municipality, **details)
    event.save(force_insert=True)
    return event


def build_event(*, actor, action, obj=None, municipality=None, **details) -> AuditEvent:
    """An unsaved AuditEvent (see log_event); for bulk_create."""
    from portal.models import Municipality

    user = actor if getattr(actor, "is_authenticated", False) else None
    username = details.pop("username", None) or (user.get_username() if user else "")
    event = AuditEvent(
        actor=user, actor_username=str(username)[:150], action=action, details=details
    )
    if obj is not None:
        event.object_type = obj._meta.label_lower
        event.object_id = str(obj.pk or "")
        event.object_repr = str(obj)[:200]
        if municipality is None:
            if isinstance(obj, Municipality):
                municipality = obj.pk
            else:
                municipality = getattr(obj, "municipality_id", None)
    if isinstance(municipality, Municipality):
        municipality = municipality.pk
    event.municipality_id = municipality
    return event


# -- Hooks: Django's auth signals (the sanctioned way to observe logins) and
# django-axes' lockout signal.


def _on_logged_in(sender, request, user, **kwargs):
    log_event(actor=user, action=Action.LOGIN)


def _on_logged_out(sender, request, user, **kwargs):
    if user is not None:
        log_event(actor=user, action=Action.LOGOUT)


def _on_login_failed(sender, credentials, request=None, **kwargs):
    # `credentials` has the password already masked by Django; keep only
    # the username that was tried.
    log_event(actor=None, action=Action.LOGIN_FAILED, username=credentials.get("username", ""))


def _on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    log_event(
        actor=None,
        action=Action.LOCKOUT,
        username=username or "",
        failure_limit=settings.AXES_FAILURE_LIMIT,
        cooloff_minutes=int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    )


def connect_signals() -> None:
    from axes.signals import user_locked_out

    auth_signals.user_logged_in.connect(_on_logged_in, dispatch_uid="portal.audit.login")
    auth_signals.user_logged_out.connect(_on_logged_out, dispatch_uid="portal.audit.logout")
    auth_signals.user_login_failed.connect(
        _on_login_failed, dispatch_uid="portal.audit.login_failed"
    )
    user_locked_out.connect(_on_locked_out, dispatch_uid="portal.audit.lockout")


class AuditedAdminMixin:
    """Mirror every add, change and delete made in the admin into the audit
    log (next to Django's own LogEntry). Every ModelAdmin registered on the
    portal's admin site uses it; a test makes sure of that."""

    def audit_municipality(self, obj):
        """The municipality an object belongs to, for filtering the log."""
        path = getattr(self, "scope_path", None)
        if path is None:
            return None
        from portal import scope

        return scope.municipality_id_of(obj, path)

    def _invalidate_pages(self, obj):
        from portal import page_cache

        page_cache.invalidate(self.audit_municipality(obj))

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._invalidate_pages(obj)
        log_event(
            actor=request.user,
            action=Action.ADMIN_ADD,
            obj=obj,
            municipality=self.audit_municipality(obj),
            change=message,
        )
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        self._invalidate_pages(obj)
        log_event(
            actor=request.user,
            action=Action.ADMIN_CHANGE,
            obj=obj,
            municipality=self.audit_municipality(obj),
            change=message,
        )
        return entry

    def log_deletions(self, request, queryset):
        entries = super().log_deletions(request, queryset)
        from portal import page_cache

        page_cache.invalidate(None)
        AuditEvent.objects.bulk_create(
            [
                build_event(
                    actor=request.user,
                    action=Action.ADMIN_DELETE,
                    obj=obj,
                    municipality=self.audit_municipality(obj),
                )
                for obj in queryset
            ]
        )
        return entries
