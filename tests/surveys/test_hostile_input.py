"""Property-based tests: whatever a client POSTs, the survey answers with
a redirect or a clear 4xx, never a 500, and never saves half a response."""

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveys.models import Answer, Choice, Question, Response
from tests.surveys.conftest import get_token

pytestmark = pytest.mark.django_db

HYPOTHESIS = settings(
    deadline=None, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

FIELD_NAMES = st.sampled_from(
    [
        "q_trygghet_ute_kvall",
        "q_kon",
        "q_forslag",
        "q_otrygg_plats",
        "q_otrygg_plats__text",
        "q_otrygg_plats_varfor",
        "q_otrygg_plats_varfor__annat",
        "q_oro_ran",
        "q_finns_inte",
        "website",
        "form_language",
        "language",
        "code",
        "token",
    ]
)
VALUES = st.one_of(
    st.text(max_size=60),
    st.integers(min_value=-(2**63), max_value=2**63).map(str),
    st.text(min_size=1900, max_size=2100, alphabet="abc åäö"),
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "1e9",
            "null",
            "[]",
            "{}",
            "\x00",
            "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
        ]
    ),
)


def _assert_all_or_nothing():
    # Either nothing was saved, or every saved response has its required answer.
    for response in Response.objects.all():
        assert response.answers.filter(question__key="trygghet_ute_kvall").exists()


@override_settings(SURVEY_RATE_LIMIT="100000/h")
@HYPOTHESIS
@given(body=st.dictionaries(FIELD_NAMES, st.lists(VALUES, min_size=1, max_size=3), max_size=8))
def test_random_post_bodies_never_cause_a_500(client, survey, body):
    data = {"send": "1", "token": get_token(client, survey), **body}
    response = client.post(survey.get_absolute_url(), data)
    assert response.status_code in (200, 302, 400, 403, 429), response.status_code
    _assert_all_or_nothing()


@override_settings(SURVEY_RATE_LIMIT="100000/h")
@HYPOTHESIS
@given(
    picks=st.lists(st.integers(min_value=0, max_value=400), max_size=6),
    text=st.text(max_size=3000),
)
def test_random_choice_ids_are_validated_against_their_question(client, survey, picks, text):
    choice_ids = list(Choice.objects.filter(question__survey=survey).values_list("pk", flat=True))
    questions = list(
        Question.objects.filter(survey=survey, kind="single").values_list("key", flat=True)
    )
    data = {"send": "1", "token": get_token(client, survey), "q_forslag": text}
    for i, pick in enumerate(picks):
        data[f"q_{questions[i % len(questions)]}"] = str(
            choice_ids[pick % len(choice_ids)] if pick < 300 else pick * 1000
        )
    before = Response.objects.count(), Answer.objects.count()
    # Ids are random (surveys/anonymity.py): the new answer is the one not there before.
    earlier = set(Answer.objects.values_list("pk", flat=True))
    response = client.post(survey.get_absolute_url(), data)
    assert response.status_code in (302, 400, 429)
    if response.status_code != 302:
        assert (Response.objects.count(), Answer.objects.count()) == before
    else:
        # Every saved choice belongs to the question it was saved for.
        assert (
            not Answer.objects.exclude(choice__isnull=True)
            .exclude(choice__question=models_F_question())
            .exists()
        )
        # Free text comes back exactly as sent (less the outer whitespace),
        # whatever quotes, backslashes or JSON-like content it holds.
        if text.strip():
            saved = Answer.objects.filter(question__key="forslag").exclude(pk__in=earlier).first()
            assert saved is not None and saved.text == text.strip()
    _assert_all_or_nothing()


def models_F_question():
    from django.db.models import F

    return F("question")
