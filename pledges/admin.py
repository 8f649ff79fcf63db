"""Officials' admin for pledges: writing, adopting, publishing, withdrawing.

Scope comes from `portal.scope` through `ScopedAdmin` (lists, change views,
actions) and the inlines' parent object; the custom views (preview, adopt,
publish, withdraw, full history) fetch the pledge through the same scoped
`get_object`. State changes go through `pledges.services`.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pledges import services
from pledges.history import pledge_history
from pledges.models import Action, Adoption, Commitment, Contact, Pledge
from pledges.views import render_pledge_body
from portal import scope
from portal.admin import ScopedAdmin
from portal.models import Organisation

CONTENT_FIELDS = (
    "municipality",
    "kommun",
    "police",
    "valid_from",
    "valid_to",
    "background",
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


class CommitmentFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [
            form
            for form in self.forms
            if getattr(form, "cleaned_data", None)
            and not form.cleaned_data.get("DELETE")
            and (form.instance.pk or form.has_changed())
        ]
        if not 1 <= len(kept) <= 3:
            raise ValidationError(_("A citizen pledge has one to three commitments."))


class CommitmentInline(PledgeChildInline, admin.StackedInline):
    model = Commitment
    formset = CommitmentFormSet
    fields = ["position", "title", "purpose", "focus", "action_list"]
    readonly_fields = ["action_list"]
    extra = 0
    min_num = 1
    max_num = 3
    show_change_link = True
    formfield_overrides = SMALL_TEXT
    verbose_name = gettext_lazy("commitment (löfte)")
    verbose_name_plural = gettext_lazy(
        "commitments (1–3); the actions of a commitment are edited on its own page: "
        "save, then click “Change”"
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                models.Prefetch("actions", queryset=Action.objects.order_by("position", "pk"))
            )
        )

    @admin.display(description=gettext_lazy("actions (“This by:”)"))
    def action_list(self, obj):
        if obj.pk is None:
            return _("Save first, then add the actions with “Change”.")
        titles = [a.title for a in obj.actions.all()]
        return "; ".join(f"{n}. {t}" for n, t in enumerate(titles, 1)) or _("No actions yet.")


class ContactInline(PledgeChildInline, admin.TabularInline):
    model = Contact
    fields = ["position", "name", "role", "organisation", "phone", "email"]
    extra = 0
    content = False  # contacts are not adopted content: editable after publishing


class AdoptionInline(PledgeChildInline, admin.TabularInline):
    model = Adoption
    fields = [
        "organisation",
        "name",
        "title",
        "adopted_at",
        "short_fingerprint",
        "voided_at",
        "void_reason",
    ]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = gettext_lazy("adoptions (also voided ones, kept for the history)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organisation").order_by("adopted_at")

    @admin.display(description=gettext_lazy("fingerprint"))
    def short_fingerprint(self, obj):
        return obj.fingerprint[:12]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PledgeForm(forms.ModelForm):
    class Meta:
        model = Pledge
        fields = list(CONTENT_FIELDS)
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_to": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }


@admin.register(Pledge)
class PledgeAdmin(ScopedAdmin):
    form = PledgeForm
    scope_path = "municipality"
    list_display = [
        "__str__",
        "municipality",
        "valid_from",
        "valid_to",
        "status_display",
        "kommun_side",
        "police_side",
        "published_at",
    ]
    list_display_links = ["__str__"]
    list_select_related = ["municipality", "kommun", "police"]
    search_fields = ["commitments__title", "background", "decision_reference"]
    autocomplete_fields = ["kommun", "police"]
    date_hierarchy = None
    inlines = [CommitmentInline, ContactInline, AdoptionInline]
    change_form_template = "pledges/admin/pledge_change_form.html"
    # No bulk actions: bulk delete would bypass the per-pledge rule below;
    # state changes have their own scoped views.
    actions = None
    fieldsets = [
        (
            gettext_lazy("Period and parties"),
            {"fields": ["municipality", "kommun", "police", "valid_from", "valid_to"]},
        ),
        (
            gettext_lazy("Content"),
            {"fields": ["background", "follow_up", "decision_reference", "is_example"]},
        ),
        (
            gettext_lazy("Publishing"),
            {
                "fields": [
                    "status_display",
                    "slug",
                    "published_at",
                    "withdrawn_at",
                    "withdrawal_reason",
                    "fingerprint",
                ],
                "classes": ["collapse"],
            },
        ),
    ]
    base_readonly = [
        "status_display",
        "slug",
        "published_at",
        "withdrawn_at",
        "withdrawal_reason",
        "fingerprint",
    ]

    # --- lists and forms -------------------------------------------------

    def get_queryset(self, request):
        return super().get_queryset(request).with_adoption_state()

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_locked():
            return [*CONTENT_FIELDS, *self.base_readonly]
        return self.base_readonly

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kinds = {"kommun": Organisation.Kind.KOMMUN, "police": Organisation.Kind.POLIS}
        if db_field.name in kinds:
            kwargs["queryset"] = scope.organisations(request.user).filter(kind=kinds[db_field.name])
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        # A pledge that has been published stays (withdraw it instead).
        return super().has_delete_permission(request, obj) and (
            obj is None or obj.published_at is None
        )

    @admin.display(description=gettext_lazy("status"))
    def status_display(self, obj):
        if obj.pk is None:
            return "–"
        status = obj.get_status(
            kommun_adopted=getattr(obj, "kommun_adopted", False),
            police_adopted=getattr(obj, "police_adopted", False),
        )
        return Pledge.Status(status).label

    @admin.display(description=gettext_lazy("adopted by the municipality"), boolean=True)
    def kommun_side(self, obj):
        return obj.kommun_adopted

    @admin.display(description=gettext_lazy("adopted by the police"), boolean=True)
    def police_side(self, obj):
        return obj.police_adopted

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        report_content_check(
            request, services.pledge_content_saved(pledge=form.instance, user=request.user)
        )

    def view_on_site(self, obj):
        # The public page once published; until then the scoped preview.
        if obj.is_public():
            return obj.get_absolute_url()
        return reverse("admin:pledges_pledge_preview", args=[obj.pk])

    # --- the change form's panel ----------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and self.has_view_permission(request, obj):
            extra_context["pledge_panel"] = self._panel(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def _panel(self, request, obj) -> dict:
        adoptions = {
            a.side: a
            for a in Adoption.objects.filter(pledge=obj, voided_at__isnull=True).select_related(
                "organisation"
            )
        }
        status = obj.get_status(
            kommun_adopted=Organisation.Kind.KOMMUN in adoptions,
            police_adopted=Organisation.Kind.POLIS in adoptions,
        )
        can_edit = scope.can_edit(request.user, obj.municipality_id)
        return {
            "status": Pledge.Status(status).label,
            "sides": [
                (obj.kommun, adoptions.get(Organisation.Kind.KOMMUN)),
                (obj.police, adoptions.get(Organisation.Kind.POLIS)),
            ],
            "adoptable": services.adoptable_organisations(pledge=obj, user=request.user),
            "can_publish": can_edit and status in (Pledge.Status.ADOPTED, Pledge.Status.SCHEDULED),
            "can_withdraw": can_edit and status == Pledge.Status.PUBLISHED,
            "public_url": obj.get_absolute_url() if obj.is_public() else "",
        }

    # --- custom views ----------------------------------------------------

    def get_urls(self):
        def view(fn):
            return self.admin_site.admin_view(fn)

        return [
            path(
                "<path:object_id>/forhandsvisning/",
                view(self.preview_view),
                name="pledges_pledge_preview",
            ),
            path(
                "<path:object_id>/faststall/<int:organisation_id>/",
                view(self.adopt_view),
                name="pledges_pledge_adopt",
            ),
            path(
                "<path:object_id>/publicera/",
                view(self.publish_view),
                name="pledges_pledge_publish",
            ),
            path(
                "<path:object_id>/aterkalla/",
                view(self.withdraw_view),
                name="pledges_pledge_withdraw",
            ),
            path(
                "<path:object_id>/fullstandig-historik/",
                view(self.full_history_view),
                name="pledges_pledge_full_history",
            ),
            *super().get_urls(),
        ]

    def scoped_pledge(self, request, object_id) -> Pledge:
        """The one access-checked getter for the custom views."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404(_("No such citizen pledge."))
        return obj

    def _change_url(self, obj):
        return reverse("admin:pledges_pledge_change", args=[obj.pk])

    def _render(self, request, obj, template, context):
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": obj,
                "change_url": self._change_url(obj),
                **context,
            },
        )

    def preview_view(self, request, object_id):
        obj = self.scoped_pledge(request, object_id)
        status = obj.get_status(
            kommun_adopted=obj.kommun_adopted, police_adopted=obj.police_adopted
        )
        context = {
            "municipality": obj.municipality,
            "pledge": obj,
            "body": render_pledge_body(obj, use_cache=False),
            "preview": True,
            "preview_status": Pledge.Status(status).label,
            "preview_back": self._change_url(obj),
        }
        return TemplateResponse(request, "pledges/pledge_detail.html", context)

    def adopt_view(self, request, object_id, organisation_id):
        obj = self.scoped_pledge(request, object_id)
        organisation = {o.pk: o for o in (obj.kommun, obj.police)}.get(organisation_id)
        if organisation is None:
            raise Http404(_("No such party."))
        if request.method == "POST":
            try:
                services.pledge_adopt(pledge=obj, user=request.user, organisation=organisation)
            except (ValidationError, PermissionDenied) as exc:
                for message in getattr(exc, "messages", [str(exc)]):
                    messages.error(request, message)
            else:
                messages.success(
                    request,
                    _("You adopted the citizen pledge for %(org)s.") % {"org": organisation},
                )
            return HttpResponseRedirect(self._change_url(obj))
        allowed = organisation in services.adoptable_organisations(pledge=obj, user=request.user)
        return self._render(
            request,
            obj,
            "pledges/admin/pledge_adopt.html",
            {
                "title": _("Adopt for %(org)s") % {"org": organisation},
                "organisation": organisation,
                "allowed": allowed,
                "problems": services.completeness_problems(obj),
                "fingerprint": services.pledge_fingerprint(obj.pk),
                "preview_url": reverse("admin:pledges_pledge_preview", args=[obj.pk]),
            },
        )

    def publish_view(self, request, object_id):
        obj = self.scoped_pledge(request, object_id)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        form = PublishForm(request.POST or None)
        if request.method == "POST" and "unschedule" in request.POST:
            try:
                services.pledge_unschedule(pledge=obj, user=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("The scheduled publishing was cancelled."))
            return HttpResponseRedirect(self._change_url(obj))
        if request.method == "POST" and form.is_valid():
            try:
                pledge = services.pledge_publish(
                    pledge=obj, user=request.user, publish_at=form.cleaned_data["publish_at"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                if pledge.is_scheduled():
                    messages.success(
                        request,
                        _("The citizen pledge will be published on %(when)s.")
                        % {
                            "when": timezone.localtime(pledge.published_at).strftime(
                                "%Y-%m-%d %H:%M"
                            )
                        },
                    )
                else:
                    messages.success(request, _("The citizen pledge is published."))
                return HttpResponseRedirect(self._change_url(obj))
        return self._render(
            request,
            obj,
            "pledges/admin/pledge_publish.html",
            {
                "title": _("Publish %(pledge)s") % {"pledge": obj},
                "form": form,
                "scheduled": obj.is_scheduled(),
            },
        )

    def withdraw_view(self, request, object_id):
        obj = self.scoped_pledge(request, object_id)
        if not scope.can_edit(request.user, obj.municipality_id):
            raise PermissionDenied
        form = WithdrawForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.pledge_withdraw(
                    pledge=obj, user=request.user, reason=form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("The citizen pledge has been withdrawn."))
                return HttpResponseRedirect(self._change_url(obj))
        return self._render(
            request,
            obj,
            "pledges/admin/pledge_withdraw.html",
            {"title": _("Withdraw %(pledge)s") % {"pledge": obj}, "form": form},
        )

    def full_history_view(self, request, object_id):
        obj = self.scoped_pledge(request, object_id)
        return self._render(
            request,
            obj,
            "pledges/admin/pledge_full_history.html",
            {
                "title": _("Full history of %(pledge)s") % {"pledge": obj},
                "entries": pledge_history(obj),
            },
        )


class PublishForm(forms.Form):
    when = forms.ChoiceField(
        label=gettext_lazy("When"),
        choices=[
            ("now", gettext_lazy("Publish now")),
            ("later", gettext_lazy("Schedule for a later time")),
        ],
        widget=forms.RadioSelect,
        initial="now",
    )
    publish_at = forms.DateTimeField(
        label=gettext_lazy("Publishing time"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=gettext_lazy("Swedish time. Only when scheduling."),
    )

    def clean(self):
        data = super().clean()
        if data.get("when") == "later":
            if not data.get("publish_at"):
                self.add_error("publish_at", _("Give the time to publish."))
            elif data["publish_at"] <= timezone.now():
                self.add_error("publish_at", _("Choose a time in the future, or publish now."))
        else:
            data["publish_at"] = None
        return data


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (shown to residents)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
    )


class ActionFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        municipality = self.instance.pledge.municipality
        serving = set(
            Organisation.objects.filter(municipalities=municipality).values_list("pk", flat=True)
        )
        for form in self.forms:
            if not getattr(form, "cleaned_data", None) or form.cleaned_data.get("DELETE"):
                continue
            for name in ("responsible", "partners"):
                outside = [o for o in form.cleaned_data.get(name, []) if o.pk not in serving]
                if outside:
                    form.add_error(
                        name,
                        _("%(orgs)s does not serve %(municipality)s.")
                        % {"orgs": ", ".join(map(str, outside)), "municipality": municipality},
                    )


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

    def response_delete(self, request, obj_display, obj_id):
        response = super().response_delete(request, obj_display, obj_id)
        pledge_id = getattr(request, "_deleted_pledge_id", None)
        if pledge_id:
            return HttpResponseRedirect(reverse("admin:pledges_pledge_change", args=[pledge_id]))
        return response

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            request._deleted_pledge_id = obj.pledge_id
        return super().delete_view(request, object_id, extra_context)
