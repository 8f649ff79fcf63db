"""The fast path for survey submissions (surveys.forms.SubmissionPlan).

Whatever it accepts, the full SurveyForm must accept and turn into the very
same Submission; whatever a browser sends for valid answers, it must accept
(otherwise the fast path is never taken). Anything else falls back to the
form, which gives the resident its messages.
"""

import dataclasses

import pytest
from django.http import QueryDict
from django.test import override_settings
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from surveys import services, views
from surveys.forms import SubmissionPlan, SurveyForm
from surveys.models import Answer, Choice, Invitation, Question, Response, Survey
from tests.surveys.conftest import choice, get_token, save_queries, valid_data

pytestmark = pytest.mark.django_db

HYPOTHESIS = settings(
    deadline=None,
    max_examples=120,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SINGLE, MULTIPLE, TEXT, PLACE = (
    Question.Kind.SINGLE,
    Question.Kind.MULTIPLE,
    Question.Kind.TEXT,
    Question.Kind.PLACE,
)
CODE = "ABCDE-FGHJK"


# --- helpers -------------------------------------------------------------


def structure(survey):
    questions = list(survey.questions.in_form_order())
    return questions, list(survey.municipality.districts.all())


def query_dict(pairs) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, value in pairs:
        data.appendlist(name, value)
    return data


def full_form(survey, questions, districts, data, language="sv") -> SurveyForm:
    return SurveyForm(
        data, survey=survey, questions=questions, districts=districts, language=language
    )


def check_agrees(survey, questions, districts, data, language="sv"):
    """Return (fast, form); fail if the fast path accepted what the form
    would refuse or build differently."""
    plan = SubmissionPlan(questions, districts)
    fast = plan.submission(
        data, language=language, invitation=survey.mode == Survey.Mode.INVITATION
    )
    form = full_form(survey, questions, districts, data, language)
    assert plan.known_names == form.known_field_names()
    if fast is not None:
        assert set(data.keys()) <= form.known_field_names()
        assert form.is_valid(), form.errors
        expected = form.submission()
        assert fast.answers == expected.answers
        assert fast.language == expected.language == language
        assert fast.code == expected.code
        assert fast == expected
    return fast, form


@pytest.fixture
def strict_survey(survey):
    """The standard survey with every question required and short texts, so
    that required answers and length limits of every kind are exercised."""
    Question.objects.filter(survey=survey).update(required=True, max_length=30)
    return survey


# --- strategies ----------------------------------------------------------

WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u2028\u3000"
# Text a resident may type: no control characters, no lone surrogates.
TYPED = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs", "Cc")), st.sampled_from("\n\r\t ")
    ),
    max_size=25,
)
PADDING = st.text(alphabet=WHITESPACE, max_size=3)


@st.composite
def typed_text(draw, *, nonempty=False):
    core = draw(TYPED)
    if nonempty and not core.strip():
        core = "Mörk gångtunnel"
    return draw(PADDING) + core + draw(PADDING)


@st.composite
def browser_pairs(draw, questions, districts, *, invitation=False):
    """What a browser sends for a valid set of answers: every text input and
    select (possibly empty), ticked radio buttons and boxes only."""
    pairs = [
        ("csrfmiddlewaretoken", "c" * 64),
        ("token", "signed-token:abc"),
        ("form_language", draw(st.sampled_from(["sv", "en", "fi", ""]))),
        ("website", ""),
    ]
    if invitation:
        pairs.append(("code", draw(st.sampled_from([CODE, " abcde-fghjk ", "Z" * 40]))))
    for q in questions:
        name = f"q_{q.key}"
        choices = list(q.choices.all())
        if q.kind == SINGLE:
            if choices and (q.required or draw(st.booleans())):
                pairs.append((name, str(draw(st.sampled_from(choices)).pk)))
        elif q.kind == MULTIPLE:
            picked = draw(
                st.lists(
                    st.sampled_from(choices),
                    unique_by=lambda c: c.pk,
                    min_size=1 if q.required else 0,
                    max_size=len(choices),
                )
            )
            pairs += [(name, str(c.pk)) for c in picked]
            for c in choices:
                if c.allows_text:
                    text = draw(typed_text(nonempty=c in picked))
                    pairs.append((f"{name}__{c.key}", text[: q.max_length]))
        elif q.kind == TEXT:
            text = draw(typed_text(nonempty=q.required))
            pairs.append((name, text[: q.max_length]))
        elif q.kind == PLACE:
            if districts and (q.required or draw(st.booleans())):
                pairs.append((name, str(draw(st.sampled_from(districts)).pk)))
                pairs.append((f"{name}__text", draw(typed_text())[: q.max_length]))
            else:
                pairs += [(name, ""), (f"{name}__text", "")]
    pairs.append(("send", "1"))
    return pairs


def hostile_values(survey, districts):
    ids = [
        str(pk)
        for pk in Choice.objects.filter(question__survey=survey).values_list("pk", flat=True)
    ]
    return st.one_of(
        st.sampled_from(ids),
        st.sampled_from([str(d.pk) for d in districts]),
        st.integers(min_value=-5, max_value=10**6).map(str),
        st.sampled_from(["", " ", "abc", " 1", "1 ", "0", "1e3", "\x00", "\ud800", "a\x01b"]),
        typed_text(),
        st.text(max_size=12),
        st.text(alphabet="\x00\x01\x08\x0b\x1f\x7f\ud800\udfff \n\tx", max_size=6),
        st.integers(min_value=25, max_value=35).map(lambda n: " " * (n % 3) + "x" * n),
        st.integers(min_value=995, max_value=1005).map(lambda n: "y" * n + "\n"),
    )


@st.composite
def hostile_pairs(draw, survey, questions, districts, *, invitation=False):
    """Browser-like data with a few edits: garbage ids, other questions'
    ids, hostile or long text, dropped answers, repeated and extra fields."""
    pairs = draw(browser_pairs(questions, districts, invitation=invitation))
    names = sorted({name for name, _ in pairs} | SubmissionPlan(questions, districts).known_names)
    names += ["q_finns_inte", "Q_kon", "q_kon__annat", "q_otrygg_plats_varfor__ovrigt"]
    values = hostile_values(survey, districts)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        op = draw(st.sampled_from(["set", "drop", "add", "tick_other"]))
        name = draw(st.sampled_from(names))
        if op == "set":
            pairs = [p for p in pairs if p[0] != name] + [(name, draw(values))]
        elif op == "drop":
            pairs = [p for p in pairs if p[0] != name]
        elif op == "add":
            pairs.append((name, draw(values)))
        else:
            other = choice(survey, "otrygg_plats_varfor", "annat")
            pairs.append(("q_otrygg_plats_varfor", other))
    return pairs


# --- properties ----------------------------------------------------------


def _prepared(survey, request, invitation: bool, strict: bool, data):
    """The survey in the mode and shape a property runs with: (questions,
    districts, a drawn language)."""
    if strict:
        request.getfixturevalue("strict_survey")
    survey.mode = Survey.Mode.INVITATION if invitation else Survey.Mode.OPEN
    questions, districts = structure(survey)
    return questions, districts, data.draw(st.sampled_from(["sv", "en", "fi"]))


@pytest.mark.parametrize("invitation", [False, True])
@pytest.mark.parametrize("strict", [False, True])
@HYPOTHESIS
@given(data=st.data())
def test_valid_browser_data_takes_the_fast_path_and_matches_the_form(
    survey, request, invitation, strict, data
):
    questions, districts, language = _prepared(survey, request, invitation, strict, data)
    pairs = data.draw(browser_pairs(questions, districts, invitation=invitation))
    fast, form = check_agrees(survey, questions, districts, query_dict(pairs), language)
    assert form.is_valid(), form.errors
    assert fast is not None


@pytest.mark.parametrize("invitation", [False, True])
@pytest.mark.parametrize("strict", [False, True])
@HYPOTHESIS
@given(data=st.data())
def test_whatever_the_fast_path_accepts_the_form_accepts_identically(
    survey, request, invitation, strict, data
):
    questions, districts, language = _prepared(survey, request, invitation, strict, data)
    pairs = data.draw(hostile_pairs(survey, questions, districts, invitation=invitation))
    fast, form = check_agrees(survey, questions, districts, query_dict(pairs), language)
    event("fast path" if fast is not None else "form valid" if form.is_valid() else "invalid")


# --- each reason to fall back ---------------------------------------------


def plain_pairs(survey, questions, districts) -> list[tuple[str, str]]:
    """A valid, browser-like submission: the first choice of each single
    question, the first plain choice of each multiple one, empty texts."""
    pairs = [("token", "t"), ("form_language", "sv"), ("website", ""), ("send", "1")]
    if survey.mode == Survey.Mode.INVITATION:
        pairs.append(("code", CODE))
    for q in questions:
        name = f"q_{q.key}"
        choices = list(q.choices.all())
        if q.kind == SINGLE and choices:
            pairs.append((name, str(choices[0].pk)))
        elif q.kind == MULTIPLE:
            pairs.append((name, str(next(c for c in choices if not c.allows_text).pk)))
            pairs += [(f"{name}__{c.key}", "") for c in choices if c.allows_text]
        elif q.kind == TEXT:
            pairs.append((name, ""))
        elif q.kind == PLACE:
            pairs += [(name, ""), (f"{name}__text", "")]
    return pairs


def edited(pairs, *, drop=(), **values):
    """Replace (or add) fields; a list value sends the field repeatedly."""
    names = set(drop) | set(values)
    out = [p for p in pairs if p[0] not in names]
    for name, value in values.items():
        out += [(name, v) for v in (value if isinstance(value, list) else [value])]
    return out


@pytest.fixture
def case(survey):
    questions, districts = structure(survey)
    base = plain_pairs(survey, questions, districts)

    def run(pairs):
        data = query_dict(pairs)
        fast, form = check_agrees(survey, questions, districts, data)
        valid = form.is_valid() and set(data.keys()) <= form.known_field_names()
        return fast, valid

    run.base = base
    run.districts = districts
    return run


def test_the_plain_submission_takes_the_fast_path(case):
    fast, valid = case(case.base)
    assert valid and fast is not None
    assert len(fast.answers) > 30 and fast.language == "sv" and fast.code == ""


def _other_question_choice(survey):
    return choice(survey, "kon", "man")


@pytest.mark.parametrize(
    ("reason", "edit"),
    [
        ("missing required answer", lambda s, d: {"drop": ["q_trygghet_ute_kvall"]}),
        ("empty required answer", lambda s, d: {"q_trygghet_ute_kvall": ""}),
        ("unknown choice id", lambda s, d: {"q_kon": "99999999"}),
        ("not a number", lambda s, d: {"q_kon": "abc"}),
        ("padded id", lambda s, d: {"q_kon": " " + choice(s, "kon", "man")}),
        ("choice of another question", lambda s, d: {"q_alder": _other_question_choice(s)}),
        (
            "another question's choice in a multiple",
            lambda s, d: {"q_otrygg_plats_varfor": [_other_question_choice(s)]},
        ),
        ("empty value in a multiple", lambda s, d: {"q_otrygg_plats_varfor": [""]}),
        ("too long text", lambda s, d: {"q_forslag": "x" * 1001}),
        ("NUL in text", lambda s, d: {"q_forslag": "nul\x00byte"}),
        ("control character in text", lambda s, d: {"q_forslag": "a\x07b"}),
        ("lone surrogate in text", lambda s, d: {"q_forslag": "a\ud800b"}),
        ("bad character in an other text", lambda s, d: {"q_otrygg_plats_varfor__annat": "\x00"}),
        ("too long other text", lambda s, d: {"q_otrygg_plats_varfor__annat": "x" * 1001}),
        (
            "other ticked without text",
            lambda s, d: {"q_otrygg_plats_varfor": choice(s, "otrygg_plats_varfor", "annat")},
        ),
        (
            "other ticked with blank text",
            lambda s, d: {
                "q_otrygg_plats_varfor": choice(s, "otrygg_plats_varfor", "annat"),
                "q_otrygg_plats_varfor__annat": " \n\t ",
            },
        ),
        ("place text without district", lambda s, d: {"q_otrygg_plats__text": "Stationen"}),
        ("unknown district", lambda s, d: {"q_otrygg_plats": "not-a-district"}),
        ("a choice id as district", lambda s, d: {"q_otrygg_plats": _other_question_choice(s)}),
        (
            "too long place text",
            lambda s, d: {"q_otrygg_plats": str(d[0].pk), "q_otrygg_plats__text": "x" * 1001},
        ),
        ("honeypot", lambda s, d: {"website": "http://spam"}),
        ("bad character in the token", lambda s, d: {"token": "t\x00"}),
        ("bad character in the form language", lambda s, d: {"form_language": "sv\x01"}),
        ("unknown field", lambda s, d: {"q_finns_inte": "1"}),
        ("other field of a choice without text", lambda s, d: {"q_kon__annat": "x"}),
    ],
)
def test_invalid_data_falls_back_to_the_form(case, survey, reason, edit):
    fast, valid = case(edited(case.base, **edit(survey, case.districts)))
    assert fast is None, reason
    assert not valid, reason


@pytest.mark.parametrize(
    ("reason", "edit"),
    [
        (
            "two values for a single choice",
            lambda s: {"q_kon": [choice(s, "kon", "man"), choice(s, "kon", "kvinna")]},
        ),
        ("two values for a text", lambda s: {"q_forslag": ["a", "b"]}),
        ("two tokens", lambda s: {"token": ["a", "b"]}),
        (
            "a box ticked twice",
            lambda s: {
                "q_otrygg_plats_varfor": [choice(s, "otrygg_plats_varfor", "dalig_belysning")] * 2
            },
        ),
    ],
)
def test_data_no_browser_sends_falls_back_even_where_the_form_accepts_it(
    case, survey, reason, edit
):
    # The form takes the last value of a repeated field (and counts a box
    # ticked twice once); the fast path leaves all that to it.
    fast, valid = case(edited(case.base, **edit(survey)))
    assert fast is None, reason
    assert valid, reason


@pytest.mark.parametrize(
    ("reason", "edit"),
    [
        ("text of exactly the limit after stripping", {"q_forslag": "  " + "x" * 1000 + "\n"}),
        ("whitespace only text is no answer", {"q_forslag": " \t\n\x1f\xa0 "}),
        ("control whitespace at the edges is stripped", {"q_forslag": "\x1chej\x1f"}),
        ("tab and newlines inside text", {"q_forslag": "rad 1\r\n\trad 2"}),
        ("an other text without its box is ignored", {"q_otrygg_plats_varfor__annat": "x"}),
        ("fields left out entirely", {"drop": ["q_forslag", "website", "form_language"]}),
    ],
)
def test_edge_cases_the_form_accepts_take_the_fast_path(case, reason, edit):
    fast, valid = case(edited(case.base, **edit))
    assert valid, reason
    assert fast is not None, reason


def test_other_text_and_place_are_read_like_the_form(case, survey):
    annat = choice(survey, "otrygg_plats_varfor", "annat")
    morkt = choice(survey, "otrygg_plats_varfor", "dalig_belysning")
    pairs = edited(
        case.base,
        q_otrygg_plats_varfor=[annat, morkt],
        q_otrygg_plats_varfor__annat="  Mörk gångtunnel ",
        q_otrygg_plats=str(case.districts[1].pk),
        q_otrygg_plats__text="",
        q_forslag=" Bättre belysning. ",
    )
    fast, valid = case(pairs)
    assert valid and fast is not None
    by_question = {}
    for a in fast.answers:
        by_question.setdefault(a.question_id, []).append(a)
    varfor = Question.objects.get(survey=survey, key="otrygg_plats_varfor")
    plats = Question.objects.get(survey=survey, key="otrygg_plats")
    forslag = Question.objects.get(survey=survey, key="forslag")
    assert [(a.choice_id, a.text) for a in by_question[varfor.pk]] == [
        (int(annat), "Mörk gångtunnel"),
        (int(morkt), None),
    ]
    [place] = by_question[plats.pk]
    assert place.district_id == case.districts[1].pk and place.text is None
    assert by_question[forslag.pk][0].text == "Bättre belysning."


@pytest.mark.parametrize(
    ("reason", "code", "form_valid"),
    [
        ("missing code", None, False),
        ("empty code", "  ", False),
        ("too long code", "A" * 41, False),
        ("bad character in the code", "ABCDE\x00", False),
        ("two codes", [CODE, CODE], True),
    ],
)
def test_invitation_codes_fall_back_unless_plain(case, survey, reason, code, form_valid):
    survey.mode = Survey.Mode.INVITATION
    pairs = edited(case.base, drop=["code"])
    if code is not None:
        pairs = edited(pairs, code=code)
    fast, valid = case(pairs)
    assert fast is None, reason
    assert valid == form_valid, reason


def test_an_invitation_code_is_stripped_like_the_form_does(case, survey):
    survey.mode = Survey.Mode.INVITATION
    fast, valid = case(edited(case.base, code=" abcde-fghjk\n"))
    assert valid and fast is not None and fast.code == "abcde-fghjk"


def test_data_that_is_not_a_query_dict_falls_back(survey):
    questions, districts = structure(survey)
    plan = SubmissionPlan(questions, districts)
    data = dict(plain_pairs(survey, questions, districts))
    assert plan.submission(data, language="sv", invitation=False) is None


def test_choice_answers_are_shared_between_submissions_and_cannot_be_changed(survey):
    questions, districts = structure(survey)
    plan = SubmissionPlan(questions, districts)
    data = query_dict(plain_pairs(survey, questions, districts))
    first = plan.submission(data, language="sv", invitation=False)
    second = plan.submission(data, language="sv", invitation=False)
    assert first.answers == second.answers
    shared = [a for a, b in zip(first.answers, second.answers, strict=True) if a is b]
    assert shared and all(a.text is None for a in shared)
    with pytest.raises(dataclasses.FrozenInstanceError):
        shared[0].choice_id = 1


def test_the_plan_takes_the_language_and_asks_for_a_code_by_invitation(survey):
    questions, districts = structure(survey)
    plan = SubmissionPlan(questions, districts)
    data = query_dict(plain_pairs(survey, questions, districts))
    assert plan.submission(data, language="en", invitation=False).language == "en"
    assert plan.submission(data, language="en", invitation=True) is None


def test_colliding_field_names_leave_the_survey_to_the_form(survey):
    questions, districts = structure(survey)
    place = next(q for q in questions if q.kind == PLACE)
    clash = next(q for q in questions if q.key == "forslag")
    clash.key = f"{place.key}__text"
    plan = SubmissionPlan(questions, districts)
    data = query_dict(plain_pairs(survey, questions, districts))
    assert plan.submission(data, language="sv", invitation=False) is None


# --- through the view ----------------------------------------------------


@pytest.fixture
def forbid_full_form(monkeypatch):
    """Call it (after the form was shown) to fail if the view builds the full form."""

    class Refused(SurveyForm):
        def __init__(self, *args, **kwargs):
            raise AssertionError("the full form was built")

    return lambda: monkeypatch.setattr(views, "SurveyForm", Refused)


def _items(data: dict):
    for name, value in data.items():
        for v in value if isinstance(value, list) else [value]:
            yield name, v


def test_a_valid_submission_is_saved_without_building_the_form(
    client, survey, districts, forbid_full_form
):
    data = valid_data(
        client,
        survey,
        q_otrygg_plats=str(districts[2].pk),
        q_otrygg_plats__text="Vid stationen ",
        q_otrygg_plats_varfor=[choice(survey, "otrygg_plats_varfor", "annat")],
        q_otrygg_plats_varfor__annat="Mörkt",
        website="",
    )
    questions, districts_, _ = views._structure(survey)
    expected = full_form(survey, questions, districts_, query_dict(_items(data)))
    assert expected.is_valid()
    forbid_full_form()
    response = client.post(survey.get_absolute_url(), data)
    assert response.status_code == 302
    saved = sorted(Answer.objects.values_list("question_id", "choice_id", "text", "district_id"))
    assert saved == sorted(
        (a.question_id, a.choice_id, a.text, a.district_id) for a in expected.submission().answers
    )
    assert ("Vid stationen" in {row[2] for row in saved}) and len(saved) == 5


def test_a_valid_submission_of_the_standard_survey_runs_only_the_save(
    client, survey, django_assert_num_queries
):
    data = valid_data(client, survey)
    # The survey, its questions, choices and districts were read when the
    # form was shown; the POST only saves.
    with django_assert_num_queries(save_queries()):
        assert client.post(survey.get_absolute_url(), data).status_code == 302


def test_an_unknown_field_is_refused_without_building_the_form(client, survey, forbid_full_form):
    data = valid_data(client, survey, q_nej="1")
    forbid_full_form()
    response = client.post(survey.get_absolute_url(), data)
    assert response.status_code == 400
    assert "fält som inte hör till" in response.content.decode()
    assert Response.objects.count() == 0


@pytest.fixture
def invitation_survey(survey):
    survey.mode = Survey.Mode.INVITATION
    survey.save()
    return survey


def test_an_invitation_code_takes_the_fast_path(client, invitation_survey, forbid_full_form):
    [code] = services.invitations_generate(survey=invitation_survey, count=1)
    data = valid_data(client, invitation_survey, code=f" {code.lower()} ")
    forbid_full_form()
    assert client.post(invitation_survey.get_absolute_url(), data).status_code == 302
    assert Invitation.objects.get().used is True
    assert Response.objects.count() == 1


def test_an_unknown_code_builds_the_form_for_its_message(client, invitation_survey):
    data = valid_data(client, invitation_survey, code="AAAAA-BBBBB", q_forslag="Mer ljus")
    response = client.post(invitation_survey.get_absolute_url(), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Koden är okänd eller har redan använts." in page
    assert "Mer ljus" in page  # the answers are shown again
    assert Response.objects.count() == 0


@override_settings(SURVEY_RATE_LIMIT="100000/h")
def test_the_plan_follows_changes_in_the_admin(client, survey):
    from portal import page_cache

    url = survey.get_absolute_url()
    get_token(client, survey)
    before = views._structure(survey).plan
    Question.objects.filter(survey=survey, key="forslag").update(required=True)
    page_cache.invalidate(survey.municipality)
    data = valid_data(client, survey, q_forslag="")
    assert views._structure(survey).plan is not before
    response = client.post(url, data)
    assert response.status_code == 400
    assert "Svara på frågan." in response.content.decode()
