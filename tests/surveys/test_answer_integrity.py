"""The schema keeps answers whole for every writer (migration
0009_answer_integrity_in_the_schema): foreign keys to response, question,
choice and district, and a statement-level trigger that the question,
choice and district belong to the response's survey. Proved with plain SQL,
as psql, an import or a demo generator would write."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from portal.models import District, Municipality
from surveys import security, services
from surveys.models import Answer, Choice, Question, Response, SubmissionNonce
from surveys.services import AnswerData, Submission

# Ids given: they come from Python (surveys/anonymity.py), not a sequence.
INSERT = "INSERT INTO surveys_answer (id, response_id, question_id, choice_id, district_id, text) "
ID = "floor(random() * 9e18)::bigint"


def _submit(survey, *answers: AnswerData) -> bool:
    token = security.token_read(security.token_issue(survey), survey)
    submission = Submission(language="sv", answers=list(answers))
    return services.response_submit(survey=survey, token=token, submission=submission)


def _answer(survey, question_key: str, choice_key: str | None = None) -> AnswerData:
    question = Question.objects.get(survey=survey, key=question_key)
    choice = question.choices.get(key=choice_key) if choice_key else None
    return AnswerData(question.pk, choice_id=choice.pk if choice else None)


def _refused(statement: str, params: list) -> None:
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.fixture
def response(survey):
    return Response.objects.create(survey=survey, date="2026-11-26", language="sv")


@pytest.mark.django_db
def test_an_answer_to_another_surveys_question_saves_nothing(survey, small_survey):
    with pytest.raises(IntegrityError):
        _submit(
            survey,
            _answer(survey, "kon", "man"),
            _answer(small_survey, "trygghet_ute_kvall", "mycket_trygg"),
        )
    assert not Response.objects.exists()
    assert not Answer.objects.exists()
    assert not SubmissionNonce.objects.exists()


@pytest.mark.django_db
def test_plain_sql_cannot_write_an_answer_that_does_not_belong(survey, small_survey, response):
    kon = Question.objects.get(survey=survey, key="kon")
    man = kon.choices.get(key="man")
    other_question = Question.objects.get(survey=small_survey, key="trygghet_ute_kvall")
    other_choice = Choice.objects.get(
        question__survey=survey, question__key="trygghet_ute_kvall", key="vet_ej"
    )
    elsewhere = Municipality.objects.create(
        name="Tierps kommun", short_name="Tierp", slug="tierp", code="0360"
    )
    far = District.objects.create(municipality=elsewhere, name="Karlholm")
    values = f"VALUES ({ID}, %s, %s, %s, %s, NULL)"
    # Another survey's question, another question's choice, another
    # municipality's district, a response that does not exist.
    _refused(INSERT + values, [response.pk, other_question.pk, None, None])
    _refused(INSERT + values, [response.pk, kon.pk, other_choice.pk, None])
    _refused(INSERT + values, [response.pk, kon.pk, man.pk, far.pk])
    _refused(INSERT + values, [10**9, kon.pk, man.pk, None])
    _refused(INSERT + values, [response.pk, 10**9, None, None])
    # One wrong row in a statement refuses the statement.
    _refused(
        INSERT + f"VALUES ({ID}, %s, %s, %s, NULL, NULL), ({ID}, %s, %s, NULL, NULL, NULL)",
        [response.pk, kon.pk, man.pk, response.pk, other_question.pk],
    )
    assert not Answer.objects.exists()
    # A correct row goes in; moving it to another survey's question does not.
    with connection.cursor() as cursor:
        cursor.execute(INSERT + values, [response.pk, kon.pk, man.pk, None])
    _refused("UPDATE surveys_answer SET question_id = %s", [other_question.pk])
    assert Answer.objects.get().choice_id == man.pk


@pytest.mark.django_db
def test_what_answers_name_cannot_be_deleted_or_moved(survey, small_survey):
    assert _submit(survey, _answer(survey, "kon", "man"), _answer(survey, "forslag"))
    man = Choice.objects.get(question__survey=survey, question__key="kon", key="man")
    text_question = Question.objects.get(survey=survey, key="forslag")
    for answered in (man, text_question):
        with pytest.raises(ProtectedError):
            answered.delete()
    _refused("DELETE FROM surveys_choice WHERE id = %s", [man.pk])
    _refused("DELETE FROM surveys_question WHERE id = %s", [text_question.pk])
    response = Response.objects.get()
    _refused("DELETE FROM surveys_response WHERE id = %s", [response.pk])
    _refused(
        "UPDATE surveys_question SET survey_id = %s WHERE id = %s",
        [small_survey.pk, text_question.pk],
    )
    _refused(
        "UPDATE surveys_response SET survey_id = %s WHERE id = %s", [small_survey.pk, response.pk]
    )
    assert Choice.objects.filter(pk=man.pk).exists()
    # Without answers they go as before; Django deletes a response's answers with it.
    woman = Choice.objects.get(question__survey=survey, question__key="kon", key="kvinna")
    woman.delete()
    response.delete()
    assert not Answer.objects.exists()
