"""Integrity of answers in the schema, for every writer (the portal, the
demo generator, an import, a fix in psql).

- Real foreign keys again for an answer's response, question and choice
  (district always had one), checked at once rather than at commit (as
  the triggers they replace did, so a refused deletion fails where it is
  made, e.g. in the admin's form): added NOT VALID, then validated in a separate
  statement, which reads the table without blocking writes (the migration
  is not atomic, so no lock is held from one step to the next).
- What a foreign key cannot say, one statement-level trigger checks over
  the statement's new rows (a transition table, one query per INSERT or
  UPDATE however many rows): the question belongs to the response's survey,
  the choice to the answer's question, the district to the survey's
  municipality.
- The columns that check reads cannot change under answers: a question's
  survey, a choice's question, a response's survey, a district's or a
  survey's municipality. The row is locked FOR UPDATE first, so a change
  waits for answers in flight (their foreign-key checks hold KEY SHARE
  locks on the rows they name) and then sees them.
- Migrations 0004 and 0005's triggers, which the foreign keys replace, go.
See bench/NOTES.md for the expected cost.
"""

from importlib import import_module

import django.db.models.deletion
from django.db import migrations, models

# Backwards, 0004 and 0005's triggers come back before their own reverse drops them.
OLD = (
    import_module("surveys.migrations.0004_answers_checked_by_statement_and_triggers").POSTGRESQL
    + import_module("surveys.migrations.0005_answers_response_checked_by_statement").POSTGRESQL
)

DROP_OLD = """
DROP TRIGGER IF EXISTS surveys_choice_answered ON surveys_choice;
DROP TRIGGER IF EXISTS surveys_question_answered ON surveys_question;
DROP FUNCTION IF EXISTS surveys_refuse_answered_delete();
DROP TRIGGER IF EXISTS surveys_answer_response ON surveys_answer;
DROP TRIGGER IF EXISTS surveys_response_answered ON surveys_response;
DROP TRIGGER IF EXISTS surveys_answer_response_fixed ON surveys_answer;
DROP TRIGGER IF EXISTS surveys_response_id_fixed ON surveys_response;
DROP FUNCTION IF EXISTS surveys_answer_response_exists();
DROP FUNCTION IF EXISTS surveys_response_refuse_answered_delete();
DROP FUNCTION IF EXISTS surveys_refuse_response_change();
"""

FKS = [
    ("surveys_answer_response_fk", "response_id", "surveys_response"),
    ("surveys_answer_question_fk", "question_id", "surveys_question"),
    ("surveys_answer_choice_fk", "choice_id", "surveys_choice"),
]

CHECK = """
CREATE FUNCTION surveys_answer_belongs() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM new_answers a
        JOIN surveys_response r ON r.id = a.response_id
        JOIN surveys_survey s ON s.id = r.survey_id
        JOIN surveys_question q ON q.id = a.question_id
        LEFT JOIN surveys_choice c ON c.id = a.choice_id
        LEFT JOIN portal_district d ON d.id = a.district_id
        WHERE q.survey_id <> r.survey_id
            OR c.question_id <> a.question_id
            OR d.municipality_id <> s.municipality_id
    ) THEN
        RAISE foreign_key_violation USING MESSAGE =
            'an answer''s question, choice and district must be its response''s survey''s';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER surveys_answer_belongs_insert AFTER INSERT ON surveys_answer
    REFERENCING NEW TABLE AS new_answers
    FOR EACH STATEMENT EXECUTE FUNCTION surveys_answer_belongs();
CREATE TRIGGER surveys_answer_belongs_update AFTER UPDATE ON surveys_answer
    REFERENCING NEW TABLE AS new_answers
    FOR EACH STATEMENT EXECUTE FUNCTION surveys_answer_belongs();

CREATE FUNCTION surveys_refuse_moving_answered() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    answered boolean;
BEGIN
    EXECUTE format('SELECT 1 FROM %I WHERE id = $1 FOR UPDATE', TG_TABLE_NAME) USING OLD.id;
    answered := CASE TG_TABLE_NAME
        WHEN 'surveys_question' THEN
            EXISTS (SELECT 1 FROM surveys_answer WHERE question_id = OLD.id)
        WHEN 'surveys_choice' THEN
            EXISTS (SELECT 1 FROM surveys_answer WHERE choice_id = OLD.id)
        WHEN 'surveys_response' THEN
            EXISTS (SELECT 1 FROM surveys_answer WHERE response_id = OLD.id)
        WHEN 'portal_district' THEN
            EXISTS (SELECT 1 FROM surveys_answer WHERE district_id = OLD.id)
        ELSE EXISTS (
            SELECT 1 FROM surveys_answer a JOIN surveys_response r ON r.id = a.response_id
            WHERE r.survey_id = OLD.id AND a.district_id IS NOT NULL)
    END;
    IF answered THEN
        RAISE foreign_key_violation USING MESSAGE =
            TG_TABLE_NAME || ' ' || OLD.id || ' has answers: it stays where it is';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER surveys_question_fixed BEFORE UPDATE OF survey_id ON surveys_question
    FOR EACH ROW WHEN (OLD.survey_id IS DISTINCT FROM NEW.survey_id)
    EXECUTE FUNCTION surveys_refuse_moving_answered();
CREATE TRIGGER surveys_choice_fixed BEFORE UPDATE OF question_id ON surveys_choice
    FOR EACH ROW WHEN (OLD.question_id IS DISTINCT FROM NEW.question_id)
    EXECUTE FUNCTION surveys_refuse_moving_answered();
CREATE TRIGGER surveys_response_fixed BEFORE UPDATE OF survey_id ON surveys_response
    FOR EACH ROW WHEN (OLD.survey_id IS DISTINCT FROM NEW.survey_id)
    EXECUTE FUNCTION surveys_refuse_moving_answered();
CREATE TRIGGER surveys_district_fixed BEFORE UPDATE OF municipality_id ON portal_district
    FOR EACH ROW WHEN (OLD.municipality_id IS DISTINCT FROM NEW.municipality_id)
    EXECUTE FUNCTION surveys_refuse_moving_answered();
CREATE TRIGGER surveys_survey_fixed BEFORE UPDATE OF municipality_id ON surveys_survey
    FOR EACH ROW WHEN (OLD.municipality_id IS DISTINCT FROM NEW.municipality_id)
    EXECUTE FUNCTION surveys_refuse_moving_answered();
"""
CHECK_REVERSE = """
DROP TRIGGER surveys_answer_belongs_insert ON surveys_answer;
DROP TRIGGER surveys_answer_belongs_update ON surveys_answer;
DROP FUNCTION surveys_answer_belongs();
DROP TRIGGER surveys_question_fixed ON surveys_question;
DROP TRIGGER surveys_choice_fixed ON surveys_choice;
DROP TRIGGER surveys_response_fixed ON surveys_response;
DROP TRIGGER surveys_district_fixed ON portal_district;
DROP TRIGGER surveys_survey_fixed ON surveys_survey;
DROP FUNCTION surveys_refuse_moving_answered();
"""


def _fk(name, column, table):
    return [
        migrations.RunSQL(
            f"ALTER TABLE surveys_answer ADD CONSTRAINT {name} FOREIGN KEY ({column}) "
            f"REFERENCES {table} (id) NOT VALID",
            f"ALTER TABLE surveys_answer DROP CONSTRAINT {name}",
        ),
        migrations.RunSQL(f"ALTER TABLE surveys_answer VALIDATE CONSTRAINT {name}", ""),
    ]


class Migration(migrations.Migration):
    atomic = False  # each step commits: VALIDATE runs without the ADD's lock

    dependencies = [
        ("portal", "0003_municipality_retention"),
        ("surveys", "0008_anonymous_ids"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="answer",
                    name="response",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="answers",
                        to="surveys.response",
                        verbose_name="response",
                    ),
                ),
                migrations.AlterField(
                    model_name="answer",
                    name="question",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="answers",
                        to="surveys.question",
                        verbose_name="question",
                    ),
                ),
                migrations.AlterField(
                    model_name="answer",
                    name="choice",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="answers",
                        to="surveys.choice",
                        verbose_name="choice",
                    ),
                ),
            ],
            database_operations=[
                *[op for fk in FKS for op in _fk(*fk)],
                migrations.RunSQL(CHECK, CHECK_REVERSE),
                migrations.RunSQL(DROP_OLD, OLD),
            ],
        ),
    ]
