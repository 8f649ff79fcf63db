"""Answers name their question and choice without foreign-key constraints
(surveys/models.py, Answer): the save checks a submission's answers as a
set, and triggers keep a question or choice with answers from being
deleted, waiting on PostgreSQL for the submissions in flight."""

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from surveys import security, services
from surveys.anonymity import random_id
from surveys.models import Answer, Choice, Question, Response, SubmissionNonce
from surveys.services import AnswerData, Submission


def _submit(survey, *answers: AnswerData) -> bool:
    token = security.token_read(security.token_issue(survey), survey)
    submission = Submission(language="sv", answers=list(answers))
    return services.response_submit(survey=survey, token=token, submission=submission)


def _answer(survey, question_key: str, choice_key: str | None = None) -> AnswerData:
    question = Question.objects.get(survey=survey, key=question_key)
    choice = question.choices.get(key=choice_key) if choice_key else None
    return AnswerData(question.pk, choice_id=choice.pk if choice else None)


def _nothing_saved():
    assert not Response.objects.exists()
    assert not Answer.objects.exists()
    assert not SubmissionNonce.objects.exists()


@pytest.mark.django_db
def test_an_answer_to_another_surveys_question_saves_nothing(survey, small_survey):
    with pytest.raises(IntegrityError):
        _submit(
            survey,
            _answer(survey, "kon", "man"),
            _answer(small_survey, "trygghet_ute_kvall", "mycket_trygg"),
        )
    _nothing_saved()


@pytest.mark.django_db
def test_a_choice_of_another_question_saves_nothing(survey):
    kon = Question.objects.get(survey=survey, key="kon")
    other = Choice.objects.get(
        question__survey=survey, question__key="trygghet_ute_kvall", key="vet_ej"
    )
    with pytest.raises(IntegrityError):
        _submit(survey, _answer(survey, "forslag"), AnswerData(kon.pk, choice_id=other.pk))
    _nothing_saved()


@pytest.mark.django_db
def test_a_question_or_choice_that_is_gone_saves_nothing(survey):
    with pytest.raises(IntegrityError):
        _submit(survey, AnswerData(10**9))
    with pytest.raises(IntegrityError):
        _submit(survey, AnswerData(Question.objects.get(survey=survey, key="kon").pk, 10**9))
    _nothing_saved()


@pytest.mark.django_db
def test_a_question_or_choice_with_answers_cannot_be_deleted(survey):
    assert _submit(survey, _answer(survey, "kon", "man"), _answer(survey, "forslag"))
    man = Choice.objects.get(question__survey=survey, question__key="kon", key="man")
    text_question = Question.objects.get(survey=survey, key="forslag")
    for answered in (man, text_question):
        with pytest.raises(ProtectedError):
            answered.delete()
    # Without answers they go as before.
    woman = Choice.objects.get(question__survey=survey, question__key="kon", key="kvinna")
    woman.delete()
    assert not Choice.objects.filter(pk=woman.pk).exists()
    if connection.vendor == "postgresql":  # the database itself refuses, even in SQL
        for table, pk in (("surveys_choice", man.pk), ("surveys_question", text_question.pk)):
            with (
                pytest.raises(IntegrityError),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(f"DELETE FROM {table} WHERE id = %s", [pk])  # noqa: S608
        assert Choice.objects.filter(pk=man.pk).exists()


@pytest.mark.skip(
    reason="the one-statement save (surveys.services._SAVE_SQL) is off: submissions go "
    "through _save, which notes the response for the anonymity batch; the save path's "
    "rewrite (engineer pg) restores this"
)
@pytest.mark.django_db(transaction=True)
def test_a_deletion_waits_for_a_submission_in_flight_and_then_sees_its_answers(survey):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time")
    man = Choice.objects.get(question__survey=survey, question__key="kon", key="man")
    s = connection.settings_dict
    other = psycopg.connect(
        dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"], host=s["HOST"], port=s["PORT"]
    )
    try:
        with transaction.atomic():
            # Saved but not committed: the official's deletion must wait.
            assert _submit(survey, _answer(survey, "kon", "man"))
            with pytest.raises(psycopg.errors.LockNotAvailable), other.transaction():
                other.execute("SET LOCAL lock_timeout = '300ms'")
                other.execute("DELETE FROM surveys_choice WHERE id = %s", [man.pk])
        with pytest.raises(psycopg.errors.ForeignKeyViolation), other.transaction():
            other.execute("DELETE FROM surveys_choice WHERE id = %s", [man.pk])
    finally:
        other.close()
    assert Answer.objects.filter(choice=man).count() == 1
    assert Choice.objects.filter(pk=man.pk).exists()


def _refused_in_sql(statement: str, params: list) -> None:
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.mark.django_db
def test_answers_stay_with_a_response_that_exists(survey):
    assert _submit(survey, _answer(survey, "kon", "man"), _answer(survey, "forslag"))
    first = Response.objects.get()
    assert _submit(survey, _answer(survey, "forslag"))
    second = Response.objects.exclude(pk=first.pk).get()
    question = Question.objects.get(survey=survey, key="forslag")
    if connection.vendor == "postgresql":  # the database itself refuses, even in SQL
        # Ids given: they come from Python (surveys/anonymity.py), not the database.
        insert = "INSERT INTO surveys_answer (id, response_id, question_id, text) "
        _refused_in_sql(insert + "VALUES (%s, %s, %s, 'x')", [random_id(), 10**9, question.pk])
        # One response that exists does not carry one that does not.
        _refused_in_sql(
            insert + "VALUES (%s, %s, %s, 'x'), (%s, %s, %s, 'y')",
            [random_id(), first.pk, question.pk, random_id(), 10**9, question.pk],
        )
        _refused_in_sql("DELETE FROM surveys_response WHERE id = %s", [first.pk])
        _refused_in_sql(
            "UPDATE surveys_answer SET response_id = %s WHERE response_id = %s",
            [second.pk, first.pk],
        )
        _refused_in_sql("UPDATE surveys_response SET id = %s WHERE id = %s", [10**9, second.pk])
        with connection.cursor() as cursor:
            # What the portal does in SQL goes through: answers to existing
            # responses, texts blanked by retention.
            cursor.execute(
                insert + "VALUES (%s, %s, %s, 'x'), (%s, %s, %s, 'y')",
                [random_id(), first.pk, question.pk, random_id(), second.pk, question.pk],
            )
            cursor.execute(
                "UPDATE surveys_answer SET text = NULL WHERE question_id = %s", [question.pk]
            )
    assert Answer.objects.filter(response=first).count() == (
        3 if connection.vendor == "postgresql" else 2
    )
    # Django deletes a response's answers with it.
    first.delete()
    assert not Answer.objects.filter(response_id=first.pk).exists()
    Response.objects.filter(survey=survey).delete()
    assert not Answer.objects.exists() and not Response.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_response_deletion_waits_for_answers_in_flight_and_then_sees_them(survey):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time")
    response = Response.objects.create(survey=survey, date="2026-11-26", language="sv")
    question = Question.objects.get(survey=survey, key="forslag")
    s = connection.settings_dict
    other = psycopg.connect(
        dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"], host=s["HOST"], port=s["PORT"]
    )
    delete = "DELETE FROM surveys_response WHERE id = %s"
    try:
        with transaction.atomic():
            # Inserted but not committed: the deletion must wait for it.
            Answer.objects.create(response=response, question=question, text="Belysning")
            with pytest.raises(psycopg.errors.LockNotAvailable), other.transaction():
                other.execute("SET LOCAL lock_timeout = '300ms'")
                other.execute(delete, [response.pk])
        with pytest.raises(psycopg.errors.ForeignKeyViolation), other.transaction():
            other.execute(delete, [response.pk])
        # And once a response is gone, no answer can name it.
        with other.transaction():
            other.execute("DELETE FROM surveys_answer WHERE response_id = %s", [response.pk])
            other.execute(delete, [response.pk])
        with pytest.raises(IntegrityError):
            Answer.objects.create(response=response, question=question, text="Belysning")
    finally:
        other.close()
    assert not Answer.objects.exists()
