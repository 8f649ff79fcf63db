"""Admin for follow-up: action reports, reporting plans, indicators, forum
meetings, and the list of actions whose report is due or overdue.

Every class is scoped by portal.scope (ScopedAdmin); the choices offered in
forms (actions, pledges, surveys, organisations) are limited the same way.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from followup import services
from followup.indicators import series_for
from followup.models import ActionReport, DueAction, ForumMeeting, Indicator, ReportingPlan
from pledges.models import Action, Pledge
from portal import scope
from portal.admin import ScopedAdmin, ScopedRelatedFilter
from surveys.models import Survey


def _action_label(action) -> str:
    pledge = action.commitment.pledge
    return f"{action.title} ({pledge.municipality.short_name} {pledge.period_display})"


def scoped_actions(user):
    return scope.filter_queryset(
        Action.objects.select_related("commitment__pledge__municipality").order_by(
            "-commitment__pledge__valid_from", "commitment__position", "position", "pk"
        ),
        user,
        "commitment__pledge__municipality",
    )


def scoped_pledges(user):
    return Pledge.objects.for_user(user).select_related("municipality")


@admin.register(ActionReport)
class ActionReportAdmin(ScopedAdmin):
    scope_path = "action__commitment__pledge__municipality"
    municipality_fields = ()
    list_display = ["date", "action_title", "pledge", "status", "is_public", "is_example"]
    list_filter = ["status", "is_public", "date"]
    list_select_related = ["action__commitment__pledge__municipality"]
    search_fields = ["action__title", "text", "reason"]
    date_hierarchy = "date"
    fields = [
        "action",
        ("date", "status", "progress"),
        "text",
        "reason",
        ("meetings_held", "participants"),
        "organisation",
        ("is_public", "is_example"),
    ]

    @admin.display(description=pgettext_lazy("pledge", "action"), ordering="action__title")
    def action_title(self, obj):
        return obj.action.title

    @admin.display(description=_("citizen pledge"))
    def pledge(self, obj):
        pledge = obj.action.commitment.pledge
        return f"{pledge.municipality.short_name} {pledge.period_display}"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "action":
            kwargs["queryset"] = scoped_actions(request.user)
            field = super().formfield_for_foreignkey(db_field, request, **kwargs)
            field.label_from_instance = _action_label
            return field
        if db_field.name == "organisation":
            kwargs["queryset"] = scope.organisations(request.user).order_by("name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # The admin mixin audits the change; the service renews the caches.
        services.action_report_save(report=obj, user=request.user, audit=False)

    def delete_model(self, request, obj):
        services.action_report_delete(report=obj, user=request.user, audit=False)

    def delete_queryset(self, request, queryset):
        for report in queryset:
            services.action_report_delete(report=report, user=request.user, audit=False)


@admin.register(ReportingPlan)
class ReportingPlanAdmin(ScopedAdmin):
    scope_path = "pledge__municipality"
    municipality_fields = ()
    list_display = ["pledge", "interval_months", "first_due"]
    list_select_related = ["pledge__municipality"]
    fields = ["pledge", ("interval_months", "first_due")]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "pledge":
            kwargs["queryset"] = scoped_pledges(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class KeyListField(forms.CharField):
    """Choice keys typed as a comma-separated list: mycket_trygg, ganska_trygg."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        keys = [k.strip() for k in text.replace(";", ",").split(",") if k.strip()]
        bad = [k for k in keys if not k.replace("_", "").replace("-", "").isalnum()]
        if bad:
            raise ValidationError(
                _("Not a choice key: %(keys)s. Keys look like mycket_trygg.")
                % {"keys": ", ".join(bad)}
            )
        return keys


class IndicatorForm(forms.ModelForm):
    favourable_choices = KeyListField(
        label=_("favourable choices"),
        help_text=_("Choice keys separated by commas, e.g. mycket_trygg, ganska_trygg."),
    )
    excluded_choices = KeyListField(
        label=_("choices left out of the base"),
        required=False,
        help_text=_("Usually vet_ej: those who answered “Vet ej” are not counted in n."),
    )

    class Meta:
        model = Indicator
        fields = [
            "pledge",
            "position",
            "name",
            "question_key",
            "favourable_choices",
            "excluded_choices",
            "direction",
            "target",
            "baseline_survey",
            "note",
        ]


@admin.register(Indicator)
class IndicatorAdmin(ScopedAdmin):
    form = IndicatorForm
    scope_path = "pledge__municipality"
    municipality_fields = ()
    list_display = ["name", "pledge", "question_key", "direction", "target"]
    list_select_related = ["pledge__municipality"]
    fields = [
        "pledge",
        ("position", "name"),
        "question_key",
        "favourable_choices",
        "excluded_choices",
        ("direction", "target"),
        "baseline_survey",
        "note",
        "computed_values",
    ]
    readonly_fields = ["computed_values"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "pledge":
            kwargs["queryset"] = scoped_pledges(request.user)
        if db_field.name == "baseline_survey":
            kwargs["queryset"] = Survey.objects.for_user(request.user).select_related(
                "municipality"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("computed values"))
    def computed_values(self, obj):
        if obj is None or obj.pk is None:
            return _("Shown after saving.")
        (series,) = series_for([obj], municipality_id=obj.pledge.municipality_id)
        if not series.points:
            return _("No survey with published results has this question yet.")
        too_few = _("hidden (small numbers)")
        rows = [
            (p.survey.title, too_few)
            if p.suppressed
            else (
                p.survey.title,
                f"{p.percent} % (n = {p.n}, 95 % KI {p.low_percent}–{p.high_percent} %)",
            )
            for p in series.points
        ]
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}: {}</li>", rows))


class ForumMeetingForm(forms.ModelForm):
    class Meta:
        model = ForumMeeting
        fields = ["municipality", "date", "forum", "summary", "actions", "is_example"]

    def clean(self):
        cleaned = super().clean()
        municipality = cleaned.get("municipality")
        actions = cleaned.get("actions") or []
        if municipality is not None:
            outside = [a for a in actions if a.commitment.pledge.municipality_id != municipality.pk]
            if outside:
                raise ValidationError(
                    {
                        "actions": _("These actions belong to another municipality: %(titles)s.")
                        % {"titles": ", ".join(a.title for a in outside)}
                    }
                )
        return cleaned


@admin.register(ForumMeeting)
class ForumMeetingAdmin(ScopedAdmin):
    form = ForumMeetingForm
    scope_path = "municipality"
    list_display = ["date", "forum", "municipality", "is_example"]
    list_select_related = ["municipality"]
    list_filter = [("municipality", ScopedRelatedFilter)]
    search_fields = ["forum", "summary"]
    filter_horizontal = ["actions"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "actions":
            kwargs["queryset"] = scoped_actions(request.user)
            field = super().formfield_for_manytomany(db_field, request, **kwargs)
            field.label_from_instance = _action_label
            return field
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class DueFilter(admin.SimpleListFilter):
    title = _("report")
    parameter_name = "visa"

    def lookups(self, request, model_admin):
        return [("alla", _("all actions with a reporting plan"))]

    def choices(self, changelist):
        # The default (no parameter) is "due or overdue".
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("due or overdue"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        queryset = queryset.filter(commitment__pledge__reporting_plan__isnull=False)
        if self.value() == "alla":
            return queryset
        ids = services.due_action_ids(queryset, today=timezone.localdate())
        return queryset.filter(pk__in=ids)


@admin.register(DueAction)
class DueActionAdmin(ScopedAdmin):
    """Read-only: the actions whose report is due (within 14 days) or
    overdue, in the official's municipalities."""

    scope_path = "commitment__pledge__municipality"
    municipality_fields = ()
    list_display = ["title", "pledge", "latest", "due", "state", "write"]
    list_filter = [DueFilter]
    list_display_links = None
    search_fields = ["title"]
    actions = None

    def get_queryset(self, request):
        return services.actions_with_due(super().get_queryset(request))

    def get_urls(self):
        # A proxy has no history of its own (the action's history is on the
        # pledge's pages): leave out simple_history's version URL.
        return admin.ModelAdmin.get_urls(self)

    def history_view(self, request, object_id, extra_context=None):
        """The reports of the action are its follow-up history."""
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        url = reverse("admin:followup_actionreport_changelist")
        return HttpResponseRedirect(f"{url}?action__id__exact={obj.pk}")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("citizen pledge"))
    def pledge(self, obj):
        pledge = obj.commitment.pledge
        return f"{pledge.municipality.short_name} {pledge.period_display}"

    @admin.display(description=_("latest report"), ordering="latest_report_date")
    def latest(self, obj):
        return obj.latest_report_date or "–"

    @admin.display(description=_("due"))
    def due(self, obj):
        state = services.due_state(obj, timezone.localdate())
        return state.due or "–"

    @admin.display(description=_("state"))
    def state(self, obj):
        state = services.due_state(obj, timezone.localdate())
        if state.overdue:
            return format_html("<strong>{}</strong>", _("overdue"))
        if state.due is None:
            return _("no report due")
        return _("due in %(days)s days") % {"days": state.days_left}

    @admin.display(description="")
    def write(self, obj):
        url = reverse("admin:followup_actionreport_add") + f"?action={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Write a report"))
