"""Public survey pages: the form, the thanks page and published results."""

from __future__ import annotations

from django.db import IntegrityError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from portal import scope
from portal.page_cache import cached_public_page
from surveys import presentation, results, security, services
from surveys.forms import SurveyForm, initial_from_data
from surveys.models import LANGUAGE_CODES, Survey


def _get_survey(municipality: str, slug: str) -> Survey:
    return get_object_or_404(
        Survey.objects.select_related("municipality"), municipality__slug=municipality, slug=slug
    )


def _language(survey: Survey, value: str | None) -> str:
    offered = survey.languages or ["sv"]
    return value if value in LANGUAGE_CODES and value in offered else "sv"


def _structure(survey) -> tuple[list, list]:
    """The survey's questions (with their choices) and the municipality's
    districts: three queries, read fresh for every form and submission."""
    return list(survey.questions.in_form_order()), list(survey.municipality.districts.all())


def _build_form(survey, language, structure, *, data=None, initial=None):
    questions, districts = structure
    return SurveyForm(
        data,
        initial=initial,
        survey=survey,
        questions=questions,
        districts=districts,
        language=language,
    )


def _render_form(request, survey, form, *, status=200, notice=None):
    context = {
        "survey": survey,
        "municipality": survey.municipality,
        "form": form,
        "language": form.language,
        "intro": survey.intro_in(form.language),
        "notice": notice,
    }
    return render(request, "surveys/survey.html", context, status=status)


def _refuse(request, survey, reason: str, status: int):
    return render(
        request,
        "surveys/refused.html",
        {"survey": survey, "municipality": survey.municipality, "reason": reason},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def survey_form(request, municipality, slug):
    survey = _get_survey(municipality, slug)
    if request.method == "POST" and not _is_language_switch(request.POST):
        return _submission(request, survey)
    if survey.state() != "open":
        return _not_open(request, survey)
    structure = _structure(survey)
    if request.method == "GET":
        language = _language(survey, request.GET.get("sprak"))
        form = _build_form(
            survey,
            language,
            structure,
            initial={"token": security.token_issue(survey), "form_language": language},
        )
        return _render_form(request, survey, form)

    post = request.POST
    language = _language(survey, post.get("language"))
    filled = _build_form(survey, language, structure)
    initial = initial_from_data(filled, post)
    initial["form_language"] = language
    try:
        security.token_read(post.get("token", ""), survey)
        initial["token"] = post.get("token")
    except security.TokenError:
        initial["token"] = security.token_issue(survey)
    form = _build_form(survey, language, structure, initial=initial)
    return _render_form(request, survey, form)


def _is_language_switch(post) -> bool:
    """The form's language buttons: re-render what was filled in, in the
    other language, without validating or saving anything."""
    return bool(post.get("language")) and "send" not in post


def _not_open(request, survey):
    return render(
        request,
        "surveys/not_open.html",
        {
            "survey": survey,
            "municipality": survey.municipality,
            "state": survey.state(),
            "posted": request.method == "POST",
        },
        status=403 if request.method == "POST" else 200,
    )


def _submission(request, survey):
    """A submission, counted once for the rate limit, validated by the
    survey's form and saved exactly once. Whether the survey is open is
    decided again by the database at the moment of saving."""
    if security.rate_limit_exceeded(request, survey):
        return _refuse(request, survey, "rate", 429)
    if survey.state() != "open":
        return _not_open(request, survey)
    post = request.POST
    language = _language(survey, post.get("form_language"))
    if post.get("website"):
        return _refuse(request, survey, "honeypot", 400)
    try:
        token = security.token_read(post.get("token", ""), survey)
    except security.TokenError:
        return _refuse(request, survey, "token", 400)
    form = _build_form(survey, language, _structure(survey), data=post)
    if not post.keys() <= form.known_field_names():
        return _refuse(request, survey, "unknown", 400)
    if not form.is_valid():
        return _render_form(request, survey, form, status=400)
    try:
        saved = services.response_submit(survey=survey, token=token, submission=form.submission())
    except services.SubmissionRefused as exc:
        if exc.reason == "code":
            form.add_error("code", form.texts["code_unknown"])
            return _render_form(request, survey, form, status=400)
        return _refuse(request, survey, "closed", 403)
    except IntegrityError:
        # Not the form sent twice (response_submit tells that apart): an
        # answer names a question, choice or district removed meanwhile.
        return _refuse(request, survey, "unknown", 400)
    url = survey.thanks_url
    return HttpResponseRedirect(url if saved else f"{url}?redan=1")


@require_GET
def thanks(request, municipality, slug):
    survey = _get_survey(municipality, slug)
    return render(
        request,
        "surveys/thanks.html",
        {
            "survey": survey,
            "municipality": survey.municipality,
            "already": request.GET.get("redan") == "1",
        },
    )


@cached_public_page
@require_GET
def results_page(request, municipality, slug):
    survey = _get_survey(municipality, slug)
    preview = not survey.results_published
    if preview and not scope.can_preview(request.user, survey.municipality_id):
        raise Http404
    questions = results.questions_of(survey)
    overall = results.overall(survey, public=True, questions=questions)
    ntu_k, ntu_n = results.ntu_headline(survey)
    ntu_hidden = (
        ntu_n < results.MIN_CELL or ntu_k < results.MIN_CELL or ntu_n - ntu_k < results.MIN_CELL
    )
    by_key = {q.key: q for q in questions}
    breakdowns = []
    ntu_question = by_key.get(results.NTU_QUESTION)
    if ntu_question:
        for key in ("kon", "alder", "omrade"):
            if key in by_key:
                b = results.breakdown(survey, ntu_question, by_key[key])
                breakdowns.append(
                    presentation.breakdown_table(
                        b, caption=f"{ntu_question.text('sv')} – {b.by.text('sv')}"
                    )
                )
    return render(
        request,
        "surveys/results.html",
        {
            "survey": survey,
            "municipality": survey.municipality,
            "charts": [presentation.chart(r) for r in overall],
            "n_responses": results.response_count(survey),
            "ntu": None if ntu_hidden or not ntu_n else presentation.percent(ntu_k / ntu_n),
            "ntu_n": ntu_n,
            "breakdowns": breakdowns,
            "preview": preview,
            "public": True,
        },
    )
