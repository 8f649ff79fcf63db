"""Public survey pages: the form, the thanks page and published results."""

from __future__ import annotations

from typing import NamedTuple

from django.core.cache import cache
from django.db import IntegrityError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods

from portal import page_cache, scope
from portal.http import never_cache
from portal.memo import ProcessMemo
from portal.page_cache import cached_public_page
from surveys import presentation, results, security, services
from surveys.forms import SubmissionPlan, SurveyForm, initial_from_data
from surveys.models import LANGUAGE_CODES, Survey


def _get_survey(municipality: str, slug: str) -> Survey:
    return get_object_or_404(
        Survey.objects.select_related("municipality"), municipality__slug=municipality, slug=slug
    )


def _language(survey: Survey, value: str | None) -> str:
    offered = survey.languages or ["sv"]
    return value if value in LANGUAGE_CODES and value in offered else "sv"


class Structure(NamedTuple):
    questions: list
    districts: list
    plan: SubmissionPlan


# This process' copies, used only while the municipality's content version
# (bumped by every admin change) is the one they were read under, and for a
# minute at most (a change made outside the admin shows within that time).
_STRUCTURES = ProcessMemo(32, seconds=60)
_SURVEYS = ProcessMemo(32, seconds=60)


def _form_survey(
    municipality: str, slug: str, current: tuple | None = None
) -> tuple[Survey, tuple]:
    """The survey behind a form and the content versions it was read
    under, the current ones unless given (a pair this process read in the
    last few seconds, page_cache.recent_versions). A burst of submissions
    reads the survey from the database once a minute per process, not once
    per submission."""
    if current is None:
        current = page_cache.versions(municipality)
    if not page_cache.known(current):  # the cache is away: nothing is reused
        return _get_survey(municipality, slug), current
    key = (municipality, slug, current)
    survey = _SURVEYS.get(key)
    if survey is None:
        survey = _get_survey(municipality, slug)
        _SURVEYS.put(key, survey)
    return survey, current


def _structure(survey, current: tuple | None = None) -> Structure:
    """The survey's questions (with choices), the municipality's districts
    and the plan that validates a plain submission without the full form.
    The questions and districts are kept in the shared cache under the
    municipality's page version, which every admin change bumps, so a burst
    of submissions does not rebuild hundreds of model objects from the
    database each time."""
    current = current or page_cache.versions(survey.municipality.slug)
    if not page_cache.known(current):  # the cache is away: nothing is reused
        return _built_structure(_read_structure(survey))
    site, municipality = current
    key = f"surveys:structure:{survey.pk}:{site}:{municipality}"
    # The versions come from the shared cache, so this process' copy is used
    # only while it is current; it saves unpickling (and building the plan)
    # on every submission.
    structure = _STRUCTURES.get(key)
    if structure is not None:
        return structure
    shared = cache.get(key)
    if shared is None:
        shared = _read_structure(survey)
        cache.set(key, shared, 3600)
    structure = _built_structure(shared)
    _STRUCTURES.put(key, structure)
    return structure


def _read_structure(survey) -> tuple[list, list]:
    return list(survey.questions.in_form_order()), list(survey.municipality.districts.all())


def _built_structure(shared: tuple[list, list]) -> Structure:
    questions, districts = shared
    return Structure(questions, districts, SubmissionPlan(questions, districts))


def _build_form(survey, language, structure: Structure, *, data=None, initial=None):
    questions, districts, _ = structure
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


class _Recheck(Exception):
    """A submission handled with this process' recent copies did not end
    in a saved response: decide it again on freshly read versions."""


@never_cache
@require_http_methods(["GET", "POST"])
def survey_form(request, municipality, slug):
    if request.method == "POST" and not _is_language_switch(request.POST):
        return _submission(request, municipality, slug)

    survey, current = _form_survey(municipality, slug)
    if survey.state() != "open":
        return _not_open(request, survey)
    structure = _structure(survey, current)
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


def _submission(request, municipality, slug):
    """A submission, counted once for the rate limit. A burst of them runs
    on the survey and its questions as this process read them in the last
    few seconds, without asking the shared cache each time. At the moment
    of saving the database checks that the survey is open and in the same
    mode and that every answer names a question, choice and district of
    this survey; any outcome but a saved response is decided again on
    current data."""
    current = page_cache.recent_versions(municipality)
    recent = current is not None
    survey, current = _form_survey(municipality, slug, current)
    if security.rate_limit_exceeded(request, survey):
        return _refuse(request, survey, "rate", 429)
    if recent:
        try:
            return _submit(request, survey, current, recent=True)
        except _Recheck:
            survey, current = _form_survey(municipality, slug)
    return _submit(request, survey, current, recent=False)


def _submit(request, survey, current, *, recent: bool):
    """`recent`: the survey and versions may be a few seconds old."""

    def recheck_if_recent():
        if recent:
            raise _Recheck

    if survey.state() != "open":
        recheck_if_recent()
        return _not_open(request, survey)
    structure = _structure(survey, current)
    post = request.POST
    language = _language(survey, post.get("form_language"))
    if post.get("website"):
        return _refuse(request, survey, "honeypot", 400)
    try:
        token = security.token_read(post.get("token", ""), survey)
    except security.TokenError:
        return _refuse(request, survey, "token", 400)
    if not post.keys() <= structure.plan.known_names:
        recheck_if_recent()
        return _refuse(request, survey, "unknown", 400)
    invitation = survey.mode == Survey.Mode.INVITATION
    # A plainly valid submission (what a browser sends) is read without
    # building the full form; anything else gets the form and its messages.
    form = None
    submission = structure.plan.submission(post, language=language, invitation=invitation)
    if submission is None:
        recheck_if_recent()
        form = _build_form(survey, language, structure, data=post)
        if not form.is_valid():
            return _render_form(request, survey, form, status=400)
        submission = form.submission()
    try:
        saved = services.response_submit(survey=survey, token=token, submission=submission)
    except services.SubmissionRefused as exc:
        recheck_if_recent()
        if exc.reason == "code":
            return _code_unknown(request, survey, language, post, form, structure)
        return _refuse(request, survey, "closed", 403)
    except IntegrityError:
        # Not the form sent twice (response_submit tells that apart): the
        # answers name a question, choice or district no longer the
        # survey's, and the structure this process keeps has not caught up
        # yet (a change whose version bump is still on its way).
        recheck_if_recent()
        return _refuse(request, survey, "unknown", 400)
    url = survey.thanks_url
    return HttpResponseRedirect(url if saved else f"{url}?redan=1")


def _code_unknown(request, survey, language, post, form, structure):
    if form is None:
        # The fast path gave the submission: the form is built only now,
        # to show the answers again with the message at the code.
        form = _build_form(survey, language, structure, data=post)
        form.is_valid()
    form.add_error("code", form.texts["code_unknown"])
    return _render_form(request, survey, form, status=400)


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
