"""Officials build surveys here (from the standard template or a copy),
edit questions, generate invitation codes, read results and export them.
Everything is scoped through portal.scope (ScopedAdmin)."""

from __future__ import annotations

import csv
import io

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal import scope
from portal.admin import ScopedAdmin, ScopedRelatedFilter
from surveys import exports, presentation, results, retention, services
from surveys.models import (
    LANGUAGE_CODES,
    LANGUAGES,
    Answer,
    Choice,
    Question,
    QuestionGroup,
    Section,
    Survey,
)


class ScopedInlineMixin:
    """Inlines follow the parent's scope: `obj` is the parent object."""

    parent_scope_path = "municipality"

    def _allowed(self, request, obj):
        if obj is None:
            return scope.is_official(request.user)
        return scope.can_edit(request.user, scope.municipality_id_of(obj, self.parent_scope_path))

    def has_view_permission(self, request, obj=None):
        return self._allowed(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._allowed(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request, obj)


ANSWERED_MESSAGE = _(
    "“%(name)s” cannot be removed: residents have already answered it, and removing it would "
    "corrupt their responses."
)


class ProtectAnsweredForm(forms.ModelForm):
    """Refuse to delete a question or choice that residents have answered,
    with a reason the official understands."""

    answered_lookup = "choice"

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("DELETE")
            and self.instance.pk
            and Answer.objects.filter(**{self.answered_lookup: self.instance.pk}).exists()
        ):
            raise ValidationError(ANSWERED_MESSAGE, params={"name": str(self.instance)})
        return cleaned


class ProtectAnsweredChoiceForm(ProtectAnsweredForm):
    answered_lookup = "choice"


class ProtectAnsweredQuestionForm(ProtectAnsweredForm):
    answered_lookup = "question"


class SectionInline(ScopedInlineMixin, admin.TabularInline):
    model = Section
    extra = 0
    fields = ["position", "key", "texts"]


class QuestionGroupInline(ScopedInlineMixin, admin.TabularInline):
    model = QuestionGroup
    extra = 0
    fields = ["key", "texts"]


class QuestionInline(ScopedInlineMixin, admin.TabularInline):
    model = Question
    form = ProtectAnsweredQuestionForm
    extra = 0
    fields = ["section", "position", "key", "kind", "group", "required"]
    show_change_link = True
    ordering = ["section__position", "position", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("section", "group")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        survey_id = (
            request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
        )
        if db_field.name == "section":
            kwargs["queryset"] = Section.objects.filter(survey_id=survey_id)
        if db_field.name == "group":
            kwargs["queryset"] = QuestionGroup.objects.filter(survey_id=survey_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SurveyAdminForm(forms.ModelForm):
    START_TEMPLATE = "template"
    START_EMPTY = "empty"

    start_from = forms.ChoiceField(
        label=_("Start from"),
        required=False,
        help_text=_(
            "The standard template (blocks A–H in Swedish, English and Finnish), a copy of an "
            "earlier survey (the question keys are kept, so the years compare), or empty."
        ),
    )
    languages = forms.MultipleChoiceField(
        label=_("languages offered"),
        choices=LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
        initial=["sv"],
    )

    class Meta:
        model = Survey
        fields = [
            "municipality",
            "title",
            "slug",
            "intro",
            "intro_texts",
            "opens_at",
            "closes_at",
            "mode",
            "languages",
            "results_published",
        ]

    def clean_languages(self):
        value = list(self.cleaned_data["languages"])
        if "sv" not in value:
            raise ValidationError(_("Swedish is always offered."))
        return [code for code in LANGUAGE_CODES if code in value]


@admin.register(Survey)
class SurveyAdmin(ScopedAdmin):
    form = SurveyAdminForm
    list_display = [
        "title",
        "municipality",
        "opens_at",
        "closes_at",
        "mode",
        "results_published",
        "n_responses",
        "links",
    ]
    list_filter = [("municipality", ScopedRelatedFilter), "results_published", "mode"]
    list_select_related = ["municipality"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [SectionInline, QuestionGroupInline, QuestionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(response_total=Count("responses"))

    @admin.display(description=_("responses"), ordering="response_total")
    def n_responses(self, obj):
        return obj.response_total

    @admin.display(description=_("results"))
    def links(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:surveys_survey_results", args=[obj.pk]),
            _("Results"),
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            earlier = Survey.objects.for_user(request.user).select_related("municipality")
            form.base_fields["start_from"].choices = [
                (SurveyAdminForm.START_TEMPLATE, _("The standard template")),
                (SurveyAdminForm.START_EMPTY, _("Empty")),
                *[
                    (
                        str(s.pk),
                        _("Copy of: %(title)s (%(m)s)")
                        % {"title": s.title, "m": s.municipality.short_name},
                    )
                    for s in earlier
                ],
            ]
            form.base_fields["start_from"].initial = SurveyAdminForm.START_TEMPLATE
        return form

    def get_fieldsets(self, request, obj=None):
        fields = [f for f in SurveyAdminForm.Meta.fields]
        if obj is None:
            fields = ["start_from", *fields]
        return [(None, {"fields": fields})]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            return
        start = form.cleaned_data.get("start_from") or SurveyAdminForm.START_TEMPLATE
        if start == SurveyAdminForm.START_TEMPLATE:
            services.survey_apply_template(survey=obj)
        elif start != SurveyAdminForm.START_EMPTY:
            source = Survey.objects.for_user(request.user).filter(pk=start).first()
            if source is None:
                raise PermissionDenied
            services.survey_copy_questions(source=source, target=obj)

    # --- custom views ----------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/resultat/", view(self.results_view), name="surveys_survey_results"),
            path("<int:pk>/export.csv", view(self.export_csv), name="surveys_survey_export_csv"),
            path("<int:pk>/export.xlsx", view(self.export_xlsx), name="surveys_survey_export_xlsx"),
            path(
                "<int:pk>/inbjudningar/",
                view(self.invitations_view),
                name="surveys_survey_invitations",
            ),
            *super().get_urls(),
        ]

    def _survey(self, request, pk) -> Survey:
        survey = self.get_queryset(request).filter(pk=pk).first()
        if survey is None or not self.has_view_permission(request, survey):
            raise Http404
        return survey

    def results_view(self, request, pk):
        survey = self._survey(request, pk)
        questions = results.questions_of(survey)
        by_key = {q.key: q for q in questions}
        overall = results.overall(survey, questions=questions)
        ntu_k, ntu_n = results.ntu_headline(survey)
        choice_questions = [q for q in questions if q.has_choices]
        selected = by_key.get(request.GET.get("fraga", results.NTU_QUESTION)) or (
            choice_questions[0] if choice_questions else None
        )
        breakdowns = []
        if selected:
            for key in ("omrade", "alder", "kon"):
                if key in by_key and key != selected.key:
                    b = results.breakdown(survey, selected, by_key[key])
                    breakdowns.append(
                        presentation.breakdown_table(
                            b, caption=f"{selected.text('sv')} – {b.by.text('sv')}"
                        )
                    )
        earlier_choices = list(
            Survey.objects.for_user(request.user)
            .filter(municipality_id=survey.municipality_id, opens_at__lt=survey.opens_at)
            .order_by("-opens_at")
        )
        earlier = next((s for s in earlier_choices if str(s.pk) == request.GET.get("jamfor")), None)
        if earlier is None and earlier_choices and "jamfor" not in request.GET:
            earlier = earlier_choices[0]
        comparison = results.compare(survey, earlier, questions=questions) if earlier else []
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Results: %(title)s") % {"title": survey.title},
            "survey": survey,
            "n_responses": results.response_count(survey),
            "ntu_k": ntu_k,
            "ntu_n": ntu_n,
            "ntu": presentation.percent(ntu_k / ntu_n) if ntu_n else None,
            "charts": [presentation.chart(r) for r in overall],
            "choice_questions": choice_questions,
            "selected": selected,
            "breakdowns": breakdowns,
            "earlier_choices": earlier_choices,
            "earlier": earlier,
            "comparison": [
                {
                    "text": c.question.text("sv"),
                    "rows": [
                        {
                            "label": r["choice"].text("sv"),
                            "now": presentation.percent(r["now"]),
                            "then": presentation.percent(r["then"]),
                        }
                        for r in c.rows
                    ],
                }
                for c in comparison
            ],
            "daily": results.daily_counts(survey),
            "free_texts": [
                {
                    "question": t["question__texts"].get("sv", t["question__key"]),
                    "choice": (t["choice__texts"] or {}).get("sv", ""),
                    "district": t["district__name"] or "",
                    "text": t["text"],
                }
                for t in results.free_texts(survey)
            ],
            "free_text_retention": retention.retention_free_text_event(survey),
        }
        return TemplateResponse(request, "admin/surveys/survey/results.html", context)

    def _stream(self, request, pk, chunks, content_type, extension):
        survey = self._survey(request, pk)
        # Streamed: the first bytes leave at once and memory stays flat.
        response = StreamingHttpResponse(chunks(survey), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="enkat-{survey.slug}.{extension}"'
        return response

    def export_csv(self, request, pk):
        return self._stream(
            request,
            pk,
            lambda survey: (line.encode() for line in exports.csv_lines(survey)),
            "text/csv; charset=utf-8",
            "csv",
        )

    def export_xlsx(self, request, pk):
        return self._stream(request, pk, exports.xlsx_chunks, exports.XLSX_CONTENT_TYPE, "xlsx")

    def invitations_view(self, request, pk):
        survey = self._survey(request, pk)
        form = InvitationForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            if survey.mode != Survey.Mode.INVITATION:
                messages.error(
                    request, _("The survey is open to anyone with the link; it needs no codes.")
                )
                return redirect("admin:surveys_survey_invitations", pk)
            codes = services.invitations_generate(survey=survey, count=form.cleaned_data["count"])
            out = io.StringIO()
            writer = csv.writer(out, delimiter=";")
            writer.writerow(["kod", "adress"])
            url = request.build_absolute_uri(survey.get_absolute_url())
            for code in codes:
                writer.writerow([code, url])
            response = HttpResponse(
                "\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = f'attachment; filename="koder-{survey.slug}.csv"'
            return response
        counts = survey.invitations.aggregate(
            total=Count("id"), used=Count("id", filter=models_q_used())
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Invitation codes: %(title)s") % {"title": survey.title},
            "survey": survey,
            "form": form,
            "counts": counts,
        }
        return TemplateResponse(
            request,
            "admin/surveys/survey/invitations.html",
            context,
            status=400 if form.errors else 200,
        )


def models_q_used():
    from django.db.models import Q

    return Q(used=True)


class InvitationForm(forms.Form):
    count = forms.IntegerField(
        label=_("Number of new codes"),
        min_value=1,
        max_value=20000,
        error_messages={
            "min_value": _("Generate at least one code."),
            "max_value": _("At most 20 000 codes at a time."),
            "required": _("Give the number of codes."),
            "invalid": _("Give a whole number."),
        },
    )


class ChoiceInline(ScopedInlineMixin, admin.TabularInline):
    model = Choice
    form = ProtectAnsweredChoiceForm
    parent_scope_path = "survey__municipality"
    extra = 0
    fields = ["position", "key", "texts", "allows_text"]


@admin.register(Question)
class QuestionAdmin(ScopedAdmin):
    scope_path = "survey__municipality"
    municipality_fields = ()
    list_display = ["key", "survey", "section", "kind", "required", "position"]
    list_filter = ["kind", ("survey", ScopedRelatedFilter)]
    list_select_related = ["survey", "section"]
    search_fields = ["key", "survey__title"]
    inlines = [ChoiceInline]
    fields = [
        "survey",
        "section",
        "group",
        "position",
        "key",
        "kind",
        "texts",
        "required",
        "max_length",
        "number_min",
        "number_max",
    ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "survey":
            kwargs["queryset"] = Survey.objects.for_user(request.user)
        elif db_field.name == "section":
            kwargs["queryset"] = scope.filter_queryset(
                Section.objects.select_related("survey"), request.user, "survey__municipality"
            )
        elif db_field.name == "group":
            kwargs["queryset"] = scope.filter_queryset(
                QuestionGroup.objects.select_related("survey"), request.user, "survey__municipality"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
