"""Submissions racing each other on PostgreSQL, each in its own connection
and transaction: the same form sent many times at once is stored once, an
invitation code sent with many forms at once is used once, and every
answer of every stored response is there."""

import threading
import uuid

import pytest
from django.db import connections

from surveys import security, services
from surveys.models import Answer, Response, SubmissionNonce, Survey

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def _answers(survey) -> list[services.AnswerData]:
    out = []
    for question in survey.questions.filter(kind="single").prefetch_related("choices")[:10]:
        out.append(services.AnswerData(question.pk, choice_id=question.choices.all()[0].pk))
    return out


def _race(func) -> list:
    """Run func(i) in THREADS threads released at the same instant."""
    barrier = threading.Barrier(THREADS)
    results: list = [None] * THREADS

    def run(i):
        try:
            barrier.wait()
            results[i] = func(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_one_form_sent_many_times_at_once_is_stored_once(survey):
    token = security.Token(survey.pk, uuid.uuid4().hex * 2)
    answers = _answers(survey)

    def submit(_i):
        return services.response_submit(
            survey=survey,
            token=token,
            submission=services.Submission(language="sv", answers=answers),
        )

    results = _race(submit)
    assert sorted(results, key=str) == [False] * (THREADS - 1) + [True]
    assert Response.objects.count() == 1
    assert Answer.objects.count() == len(answers) == 10
    assert SubmissionNonce.objects.count() == 1


def test_one_code_sent_with_many_forms_at_once_is_used_once(survey):
    Survey.objects.filter(pk=survey.pk).update(mode=Survey.Mode.INVITATION)
    survey.refresh_from_db()
    code = services.invitations_generate(survey=survey, count=1)[0]
    answers = _answers(survey)

    def submit(_i):
        return services.response_submit(
            survey=survey,
            token=security.Token(survey.pk, uuid.uuid4().hex * 2),
            submission=services.Submission(language="sv", answers=answers, code=code),
        )

    results = _race(submit)
    refused = [r for r in results if isinstance(r, services.SubmissionRefused)]
    assert results.count(True) == 1
    assert len(refused) == THREADS - 1 and {r.reason for r in refused} == {"code"}
    assert Response.objects.count() == 1
    assert Answer.objects.count() == 10
    # A refused form keeps its nonce unused: sent again with a good code, it is stored.
    assert SubmissionNonce.objects.count() == 1


def test_many_different_forms_at_once_are_all_stored_with_all_answers(survey):
    answers = _answers(survey)

    def submit(_i):
        return services.response_submit(
            survey=survey,
            token=security.Token(survey.pk, uuid.uuid4().hex * 2),
            submission=services.Submission(language="sv", answers=answers),
        )

    assert _race(submit) == [True] * THREADS
    assert Response.objects.count() == THREADS
    assert Answer.objects.count() == THREADS * len(answers)
    per_response = Answer.objects.values("response").distinct().count()
    assert per_response == THREADS
