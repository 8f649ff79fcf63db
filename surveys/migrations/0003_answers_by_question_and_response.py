"""The results read answers through a (question, response, choice) index
instead of (question, choice): see Answer in surveys/models.py.

On PostgreSQL the new index is built, and the old one dropped, without
locking the answer table against writes (CONCURRENTLY), so an open survey
keeps taking submissions while a large table is indexed; the new index
exists before the old one goes, so results never run without one."""

from django.db import migrations, models

OLD = models.Index(fields=["question", "choice"], name="surveys_ans_questio_7e21be_idx")
NEW = models.Index(fields=["question", "response", "choice"], name="surveys_ans_questio_07933d_idx")


def _swap(add, remove):
    def run(apps, schema_editor):
        answer = apps.get_model("surveys", "Answer")
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(add.create_sql(answer, schema_editor, concurrently=True))
            schema_editor.execute(remove.remove_sql(answer, schema_editor, concurrently=True))
        else:
            schema_editor.add_index(answer, add)
            schema_editor.remove_index(answer, remove)

    return run


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("portal", "0003_municipality_retention"),
        ("surveys", "0002_fewer_answer_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="answer", name=OLD.name),
                migrations.AddIndex(model_name="answer", index=NEW),
            ],
            database_operations=[
                migrations.RunPython(_swap(NEW, OLD), reverse_code=_swap(OLD, NEW)),
            ],
        ),
    ]
