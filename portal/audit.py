"""The audit log: who did what, and when, readable by site administrators.

Every admin change, login, failed login, lockout and change of two-factor
devices leaves an `AuditEvent`; other apps call `log_event()` explicitly for
their own milestones (a pledge's adoption or publication). Rows are never
changed or deleted through the portal.

Because every official change is recorded here, recording it is also the
one place that tells portal.content_version that public content changed
(account events excepted): no service, signal or admin class bumps the
version itself.

No IP address is stored: the log answers "which account did this", and the
address adds personal data without telling a site administrator anything
they can act on. (django-axes keeps the address of recent *failed* attempts
for as long as a lockout needs it.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import signals as auth_signals
from django.db import models

from portal import content_version, scope
from portal.models import AuditAction as Action
from portal.models import AuditEvent, Municipality

__all__ = ["Action", "AuditEvent", "AuditedAdminMixin", "build_event", "log_event", "log_events"]

# Events about accounts (signing in, two-factor devices): no public page
# shows them, so they leave the content version alone.
ACCOUNT_ACTIONS = frozenset(
    {
        Action.LOGIN,
        Action.LOGIN_FAILED,
        Action.LOGOUT,
        Action.LOCKOUT,
        Action.OTP_ENROLLED,
        Action.OTP_REMOVED,
        Action.OTP_FAILED,
        Action.RECOVERY_CODE_USED,
        Action.RECOVERY_CODES_RENEWED,
    }
)


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
    and must not contain passwords, codes or addresses.

    The event's municipality (or the site) gets a new content version
    once the transaction commits (`_content_changed`)."""
    event = build_event(actor=actor, action=action, obj=obj, municipality=municipality, **details)
    event.save(force_insert=True)
    _content_changed([event])
    return event


def log_events(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """Record several events from `build_event` in one query."""
    events = AuditEvent.objects.bulk_create(list(events))
    _content_changed(events)
    return events


def _content_changed(events: Iterable[AuditEvent]) -> None:
    """New content versions for what these events changed: the event's
    municipality, or the whole site for an event without one (an
    organisation serves several) or about a municipality itself (the home
    page lists them; a new address leaves pages under the old one)."""
    municipalities = set()
    for event in events:
        if event.action in ACCOUNT_ACTIONS:
            continue
        if event.municipality_id is None or event.object_type == "portal.municipality":
            content_version.changed()
            return
        municipalities.add(event.municipality_id)
    if municipalities:
        content_version.changed(*municipalities)


def build_event(*, actor, action, obj=None, municipality=None, **details) -> AuditEvent:
    """An unsaved AuditEvent (see log_event); for `log_events`."""
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
        return scope.municipality_id_of(obj, path)

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
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
        log_events(
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
