"""The answer index swap (migration 0003) runs both ways; on PostgreSQL it
builds and drops CONCURRENTLY, outside a transaction."""

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
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass AND NOT indisvalid",
                [Answer._meta.db_table],
            )
            assert cursor.fetchone()[0] == 0
