"""An answer's response is checked once per statement, not once per row:
the foreign-key constraint ran a lookup and a row lock on the response for
each of a submission's sixty-odd answers (about a quarter of the
database's time per submission). On PostgreSQL these triggers keep what the
constraint kept (see Answer in surveys/models.py):

- inserted answers name responses that exist, checked over the statement's
  new rows at its end, and those responses are locked FOR KEY SHARE until
  the transaction ends, as the constraint locked them, so a concurrent
  deletion of a response waits and then sees the answers;
- a response that has answers cannot be deleted (Django deletes the
  answers first, as before), checked over the statement's deleted rows
  with a fresh snapshot, so answers committed meanwhile are seen;
- an answer cannot move to another response, and a response's id cannot
  change (neither ever does).

Elsewhere (SQLite, development) Django's CASCADE deletes answers with their
response, as for questions and choices in migration 0004."""

import django.db.models.deletion
from django.db import migrations, models

POSTGRESQL = """
CREATE FUNCTION surveys_answer_response_exists() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    wanted bigint;
    found bigint;
BEGIN
    SELECT count(DISTINCT response_id) INTO wanted FROM new_answers;
    SELECT count(*) INTO found FROM (
        SELECT 1 FROM surveys_response
        WHERE id IN (SELECT response_id FROM new_answers)
        FOR KEY SHARE
    ) AS locked;
    IF found <> wanted THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'an answer names a response that does not exist';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER surveys_answer_response AFTER INSERT ON surveys_answer
    REFERENCING NEW TABLE AS new_answers
    FOR EACH STATEMENT EXECUTE FUNCTION surveys_answer_response_exists();

CREATE FUNCTION surveys_response_refuse_answered_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM old_responses o JOIN surveys_answer a ON a.response_id = o.id
    ) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'a response that has answers cannot be deleted';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER surveys_response_answered AFTER DELETE ON surveys_response
    REFERENCING OLD TABLE AS old_responses
    FOR EACH STATEMENT EXECUTE FUNCTION surveys_response_refuse_answered_delete();

CREATE FUNCTION surveys_refuse_response_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE foreign_key_violation USING
        MESSAGE = 'answers stay with their response, and a response keeps its id';
END
$$;
CREATE TRIGGER surveys_answer_response_fixed BEFORE UPDATE OF response_id ON surveys_answer
    FOR EACH ROW WHEN (OLD.response_id IS DISTINCT FROM NEW.response_id)
    EXECUTE FUNCTION surveys_refuse_response_change();
CREATE TRIGGER surveys_response_id_fixed BEFORE UPDATE OF id ON surveys_response
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION surveys_refuse_response_change();
"""
POSTGRESQL_REVERSE = """
DROP TRIGGER surveys_answer_response ON surveys_answer;
DROP TRIGGER surveys_response_answered ON surveys_response;
DROP TRIGGER surveys_answer_response_fixed ON surveys_answer;
DROP TRIGGER surveys_response_id_fixed ON surveys_response;
DROP FUNCTION surveys_answer_response_exists();
DROP FUNCTION surveys_response_refuse_answered_delete();
DROP FUNCTION surveys_refuse_response_change();
"""


def _run(sql):
    def run(apps, schema_editor):
        # PostgreSQL only, as in migration 0004: on SQLite a trigger would
        # stop the test runner's flush, which deletes tables in no fixed
        # order.
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0004_answers_checked_by_statement_and_triggers"),
    ]

    operations = [
        # The triggers first: the answers are never without a check.
        migrations.RunPython(_run(POSTGRESQL), reverse_code=_run(POSTGRESQL_REVERSE)),
        migrations.AlterField(
            model_name="answer",
            name="response",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="answers",
                to="surveys.response",
                verbose_name="response",
            ),
        ),
    ]
