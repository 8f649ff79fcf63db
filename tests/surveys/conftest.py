import re
from datetime import timedelta

import pytest
from django.utils import timezone

from portal.models import District
from surveys import services
from surveys.models import Choice, Question, Section, Survey
from tests.surveys.factories import SurveyFactory


@pytest.fixture
def districts(osthammar):
    return [
        District.objects.create(municipality=osthammar, name=name, position=i, population=pop)
        for i, (name, pop) in enumerate([("Östhammar", 4974), ("Gimo", 2811), ("Alunda", 2677)])
    ]


@pytest.fixture
def survey(osthammar, districts):
    """An open survey built from the standard template."""
    s = SurveyFactory(
        municipality=osthammar, slug="hosten-2026", title="Trygghetsenkät hösten 2026"
    )
    services.survey_apply_template(survey=s)
    return s


@pytest.fixture
def small_survey(osthammar, districts):
    """An open survey with three questions (for query-count comparisons)."""
    s = SurveyFactory(municipality=osthammar, slug="liten", title="Liten enkät")
    section = Section.objects.create(survey=s, key="a", texts={"sv": "Trygghet"})
    q1 = Question.objects.create(
        survey=s,
        section=section,
        key="trygghet_ute_kvall",
        kind="single",
        required=True,
        texts={"sv": "Hur trygg känner du dig ute sent?"},
        position=0,
    )
    for i, key in enumerate(
        ["mycket_trygg", "ganska_trygg", "ganska_otrygg", "mycket_otrygg", "vet_ej"]
    ):
        Choice.objects.create(
            question=q1, key=key, position=i, texts={"sv": key.replace("_", " ").capitalize()}
        )
    q2 = Question.objects.create(
        survey=s, section=section, key="kon", kind="single", texts={"sv": "Kön"}, position=1
    )
    for i, key in enumerate(["kvinna", "man"]):
        Choice.objects.create(question=q2, key=key, position=i, texts={"sv": key.capitalize()})
    Question.objects.create(
        survey=s,
        section=section,
        key="forslag",
        kind="text",
        texts={"sv": "Förslag?"},
        position=2,
        max_length=200,
    )
    return s


@pytest.fixture
def closed_survey(osthammar, districts):
    s = SurveyFactory(
        municipality=osthammar,
        slug="hosten-2020",
        title="Trygghetsenkät hösten 2020",
        opens_at=timezone.now() - timedelta(days=60),
        closes_at=timezone.now() - timedelta(days=30),
    )
    services.survey_apply_template(survey=s)
    return s


TOKEN_RE = re.compile(r'name="token" value="([^"]+)"')


def get_token(client, survey: Survey, language="sv") -> str:
    response = client.get(survey.get_absolute_url() + f"?sprak={language}")
    assert response.status_code == 200
    return TOKEN_RE.search(response.content.decode()).group(1)


def choice(survey: Survey, question_key: str, choice_key: str) -> str:
    return str(
        Choice.objects.get(question__survey=survey, question__key=question_key, key=choice_key).pk
    )


def valid_data(client, survey: Survey, **extra) -> dict:
    data = {
        "token": get_token(client, survey),
        "form_language": "sv",
        "send": "1",
        "q_trygghet_ute_kvall": choice(survey, "trygghet_ute_kvall", "ganska_trygg"),
        "q_kon": choice(survey, "kon", "kvinna"),
        "q_forslag": "Bättre belysning vid busshållplatsen.",
    }
    data.update(extra)
    return data


@pytest.fixture
def fill():
    return valid_data


def save_queries() -> int:
    """Queries a valid submission runs once its survey and structure are in
    this process' memo (the form was shown): savepoint, open check, nonce,
    response, answers, the anonymity batch's pending row
    (surveys/anonymity.py), release (surveys.services._save)."""
    return 7
