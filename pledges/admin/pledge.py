"""The pledge's admin page and its custom views (preview, adopt, publish,
withdraw, full history), all fetching the pledge through the scoped getter."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pledges import services
from pledges.admin.common import (
    CONTENT_FIELDS,
    SMALL_TEXT,
    PledgeChildInline,
    report_content_check,
)
from pledges.admin.forms import CommitmentFormSet, PledgeForm, PublishForm, WithdrawForm
from pledges.content_diff import content_changes
from pledges.history import pledge_history
from pledges.models import Action, Adoption, Commitment, Contact, Pledge
from pledges.views import render_pledge_body
from portal import scope
from portal.admin import ScopedAdmin
from portal.models import Organisation
from surveys.models import Survey

ADOPT_CONTENT_SALT = "pledges.adopt.content"


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
            {
                "fields": [
                    "background",
                    "based_on_survey",
                    "follow_up",
                    "decision_reference",
                    "is_example",
                ]
            },
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
        if db_field.name == "based_on_survey":
            kwargs["queryset"] = scope.filter_queryset(
                Survey.objects.select_related("municipality"), request.user, "municipality"
            )
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
            "body": render_pledge_body(obj),
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
        changes = None
        if request.method == "POST":
            # Adopt exactly what this page showed: its fingerprint comes back.
            shown = request.POST.get("fingerprint", "")
            try:
                services.pledge_adopt(
                    pledge=obj, user=request.user, organisation=organisation, fingerprint=shown
                )
            except services.ContentChanged as exc:
                messages.error(request, exc.messages[0])
                changes = self._changes_since(request.POST.get("content", ""), shown, obj)
            except (ValidationError, PermissionDenied) as exc:
                for message in getattr(exc, "messages", [str(exc)]):
                    messages.error(request, message)
                return HttpResponseRedirect(self._change_url(obj))
            else:
                messages.success(
                    request,
                    _("You adopted the citizen pledge for %(org)s.") % {"org": organisation},
                )
                return HttpResponseRedirect(self._change_url(obj))
        allowed = organisation in services.adoptable_organisations(pledge=obj, user=request.user)
        content = services.pledge_content(obj.pk)
        response = self._render(
            request,
            obj,
            "pledges/admin/pledge_adopt.html",
            {
                "title": _("Adopt for %(org)s") % {"org": organisation},
                "organisation": organisation,
                "allowed": allowed,
                "problems": services.completeness_problems(obj),
                "fingerprint": services.content_fingerprint(content),
                # What the page showed, signed: a later mismatch can say what changed.
                "content": signing.dumps(content, salt=ADOPT_CONTENT_SALT, compress=True),
                "changes": changes,
                "preview_url": reverse("admin:pledges_pledge_preview", args=[obj.pk]),
            },
        )
        if changes is not None:
            response.status_code = 409
        return response

    def _changes_since(self, signed: str, shown: str, obj) -> list[str]:
        """What changed since the adopt page was opened, read from the content
        it posted back (signed by us, and matching the fingerprint it showed)."""
        try:
            before = signing.loads(signed, salt=ADOPT_CONTENT_SALT)
        except signing.BadSignature:
            before = None
        if before is None or services.content_fingerprint(before) != shown:
            return [_("The page did not say which content it showed; read the content again.")]
        changes = content_changes(before, services.pledge_content(obj.pk))
        return changes or [_("The content was changed and changed back; read it again.")]

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
