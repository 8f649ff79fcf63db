"""A commitment's own page, one click from its pledge: its ordered actions."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy

from pledges import services
from pledges.admin.common import SMALL_TEXT, PledgeChildInline, report_content_check
from pledges.admin.forms import ActionFormSet
from pledges.models import Action, Commitment
from portal import scope
from portal.admin import ScopedAdmin


class ActionInline(PledgeChildInline, admin.StackedInline):
    model = Action
    formset = ActionFormSet
    fields = [
        ("position", "title"),
        "description",
        ("responsible", "partners"),
        "outcome_note",
    ]
    autocomplete_fields = ["responsible", "partners"]
    extra = 0
    min_num = 1
    validate_min = True
    formfield_overrides = SMALL_TEXT
    verbose_name_plural = gettext_lazy("actions (“This by:”), in the order given by “order”")

    def pledge_of(self, obj):
        return obj.pledge

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("responsible", "partners")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name in ("responsible", "partners"):
            kwargs["queryset"] = scope.organisations(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(Commitment)
class CommitmentAdmin(ScopedAdmin):
    """A commitment's own page, one click from its pledge: its actions."""

    scope_path = "pledge__municipality"
    municipality_fields = ()
    fields = ["pledge_link", "position", "title", "purpose", "focus"]
    readonly_fields = ["pledge_link"]
    list_display = ["title", "pledge", "municipality"]
    list_select_related = ["pledge__municipality"]
    inlines = [ActionInline]
    formfield_overrides = SMALL_TEXT
    actions = None

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("pledge__municipality", "pledge__kommun", "pledge__police")
        )

    def has_module_permission(self, request):
        return False  # reached from the pledge's page

    def has_add_permission(self, request):
        return False  # commitments are added on the pledge's page

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is None or not obj.pledge.is_locked()
        )

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    @admin.display(description=gettext_lazy("municipality"))
    def municipality(self, obj):
        return obj.pledge.municipality

    @admin.display(description=gettext_lazy("citizen pledge"))
    def pledge_link(self, obj):
        from django.utils.html import format_html

        return format_html(
            '<a href="{}">{} – {}</a>',
            reverse("admin:pledges_pledge_change", args=[obj.pledge_id]),
            obj.pledge,
            obj.pledge.municipality,
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        report_content_check(
            request, services.pledge_content_saved(pledge=form.instance.pledge, user=request.user)
        )

    def delete_model(self, request, obj):
        pledge = obj.pledge
        super().delete_model(request, obj)
        report_content_check(
            request, services.pledge_content_saved(pledge=pledge, user=request.user)
        )

    def _back_to_pledge(self, request, obj, default):
        if "_continue" in request.POST or "_addanother" in request.POST:
            return default
        return HttpResponseRedirect(reverse("admin:pledges_pledge_change", args=[obj.pledge_id]))

    def response_change(self, request, obj):
        return self._back_to_pledge(request, obj, super().response_change(request, obj))

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        response = super().delete_view(request, object_id, extra_context)
        # A confirmed deletion redirects: back to the pledge, not the changelist.
        if obj is not None and request.method == "POST" and response.status_code == 302:
            return HttpResponseRedirect(
                reverse("admin:pledges_pledge_change", args=[obj.pledge_id])
            )
        return response
