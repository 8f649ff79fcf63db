"""The answer index swap (migration 0003) runs both ways, building and
dropping CONCURRENTLY outside a transaction; the answers' foreign keys
(migration 0009) come back valid after a round trip."""

import pytest
from django.core.management import call_command
from django.db import connection

from surveys.models import Answer


def _answer_indexes() -> set[tuple[str, ...]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Answer._meta.db_table)
    return {tuple(c["columns"]) for c in constraints.values() if c["index"]}


@pytest.mark.django_db(transaction=True)
def test_the_answer_index_swap_migrates_back_and_forth():
    try:
        call_command("migrate", "surveys", "0002", verbosity=0)
        indexes = _answer_indexes()
        assert ("question_id", "choice_id") in indexes
        assert ("question_id", "response_id", "choice_id") not in indexes
    finally:
        call_command("migrate", verbosity=0)
    indexes = _answer_indexes()
    assert ("question_id", "response_id", "choice_id") in indexes
    assert ("question_id", "choice_id") not in indexes
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass AND NOT indisvalid",
            [Answer._meta.db_table],
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute(
            "SELECT conname, convalidated FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
            [Answer._meta.db_table],
        )
        fks = cursor.fetchall()
    names = {name for name, _ in fks}
    assert {
        "surveys_answer_response_fk",
        "surveys_answer_question_fk",
        "surveys_answer_choice_fk",
    } <= names
    assert all(valid for _, valid in fks)
