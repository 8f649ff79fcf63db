"""The answer table's indexes are paid for by every submission (some sixty
rows each), the nonce's and the response's once: exactly the ones the
results, deletions and the purge need, no more."""

import pytest
from django.db import connection

from surveys.models import Answer, Response, SubmissionNonce


def _indexed_columns(model) -> set[tuple[str, ...]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {
        tuple(c["columns"])
        for c in constraints.values()
        if (c["index"] or c["unique"]) and not c["primary_key"]
    }


@pytest.mark.django_db
def test_answers_carry_only_the_indexes_queries_need():
    assert _indexed_columns(Answer) == {
        # results: counts, respondents per question, breakdowns (index-only)
        ("question_id", "response_id", "choice_id"),
        ("response_id", "question_id"),  # a response's answers, deleting a response
        ("choice_id",),  # protecting a choice that has answers
        ("district_id",),  # partial: only answers that name a district
    }


@pytest.mark.django_db
def test_responses_are_found_by_survey_through_the_survey_date_index():
    assert _indexed_columns(Response) == {("survey_id", "date")}


@pytest.mark.django_db
def test_a_nonce_is_unique_within_its_survey_through_one_index():
    # The form's token is signed with its survey; the purge after closing
    # finds a survey's nonces through the same index.
    assert _indexed_columns(SubmissionNonce) == {("survey_id", "digest")}
