"""What the pledge and commitment admins share: scoped inlines, messages."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import models
from django.utils.translation import gettext as _

from pledges import services
from portal import scope

CONTENT_FIELDS = (
    "municipality",
    "kommun",
    "police",
    "valid_from",
    "valid_to",
    "background",
    "based_on_survey",
    "follow_up",
    "decision_reference",
    "is_example",
)

SMALL_TEXT = {
    models.TextField: {"widget": forms.Textarea(attrs={"rows": 4, "cols": 70})},
    models.CharField: {"widget": forms.TextInput(attrs={"size": 70})},
}


def _names(adoptions) -> str:
    return ", ".join(str(a.organisation) for a in adoptions)


def report_content_check(request, check: services.ContentCheck) -> None:
    if check.voided:
        messages.warning(
            request,
            _(
                "The adopted content changed, so the adoption by %(orgs)s has been voided. "
                "The pledge must be adopted again before it can be published."
            )
            % {"orgs": _names(check.voided)},
        )
    if check.unscheduled:
        messages.warning(request, _("The scheduled publishing was cancelled."))


class PledgeChildInline:
    """Inline permissions follow the parent pledge: in scope, and adopted
    content of a published or withdrawn pledge is read-only."""

    content = True  # part of the adopted content

    def pledge_of(self, obj):
        return obj

    def _in_scope(self, request, obj) -> bool:
        if obj is None:
            return scope.is_official(request.user)
        return scope.can_edit(request.user, self.pledge_of(obj).municipality_id)

    def _writable(self, request, obj) -> bool:
        if not self._in_scope(request, obj):
            return False
        return obj is None or not (self.content and self.pledge_of(obj).is_locked())

    def get_formset(self, request, obj=None, **kwargs):
        # The admin passes min_num/max_num but does not enforce them.
        kwargs.setdefault("validate_min", getattr(self, "validate_min", False))
        kwargs.setdefault("validate_max", getattr(self, "validate_max", False))
        return super().get_formset(request, obj, **kwargs)

    def has_view_permission(self, request, obj=None):
        return self._in_scope(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._writable(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._writable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._writable(request, obj)
