"""Answers keep their question and choice without foreign-key constraints:
the save statement checks a submission's answers as a set (surveys/
services.py), and these triggers refuse to delete a question or choice that
has answers, as the constraints did (see Answer in surveys/models.py), on
PostgreSQL; elsewhere Django's PROTECT does.

On PostgreSQL the trigger first locks the survey's row FOR UPDATE: every
submission holds a KEY SHARE lock on it until it commits, so a deletion
waits for the submissions in flight and then sees their answers."""

import django.db.models.deletion
from django.db import migrations, models

POSTGRESQL = """
CREATE FUNCTION surveys_refuse_answered_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    survey bigint;
    answered boolean;
BEGIN
    IF TG_TABLE_NAME = 'surveys_choice' THEN
        SELECT q.survey_id INTO survey FROM surveys_question q WHERE q.id = OLD.question_id;
    ELSE
        survey := OLD.survey_id;
    END IF;
    PERFORM 1 FROM surveys_survey WHERE id = survey FOR UPDATE;
    IF TG_TABLE_NAME = 'surveys_choice' THEN
        answered := EXISTS (SELECT 1 FROM surveys_answer WHERE choice_id = OLD.id);
    ELSE
        answered := EXISTS (SELECT 1 FROM surveys_answer WHERE question_id = OLD.id);
    END IF;
    IF answered THEN
        RAISE foreign_key_violation USING
            MESSAGE = TG_TABLE_NAME || ' ' || OLD.id || ' has answers and cannot be deleted';
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER surveys_choice_answered BEFORE DELETE ON surveys_choice
    FOR EACH ROW EXECUTE FUNCTION surveys_refuse_answered_delete();
CREATE TRIGGER surveys_question_answered BEFORE DELETE ON surveys_question
    FOR EACH ROW EXECUTE FUNCTION surveys_refuse_answered_delete();
"""
POSTGRESQL_REVERSE = """
DROP TRIGGER surveys_choice_answered ON surveys_choice;
DROP TRIGGER surveys_question_answered ON surveys_question;
DROP FUNCTION surveys_refuse_answered_delete();
"""
def _run(sql):
    def run(apps, schema_editor):
        # PostgreSQL only. On SQLite (development) Django's PROTECT keeps
        # answered questions and choices: a trigger there would also stop
        # the test runner's flush, which deletes tables in no fixed order
        # (PostgreSQL's flush truncates, which fires no row trigger).
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0003_answers_by_question_and_response"),
    ]

    operations = [
        migrations.AlterField(
            model_name="answer",
            name="choice",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="answers",
                to="surveys.choice",
                verbose_name="choice",
            ),
        ),
        migrations.AlterField(
            model_name="answer",
            name="question",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="answers",
                to="surveys.question",
                verbose_name="question",
            ),
        ),
        migrations.RunPython(
            _run(POSTGRESQL), reverse_code=_run(POSTGRESQL_REVERSE)
        ),
    ]
