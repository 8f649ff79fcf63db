"""A submission's nonce is written with one index instead of three: unique
within its survey (a form's token is signed with its survey), which also
finds a survey's nonces for the purge. Gone: the digest's unique index, its
`varchar_pattern_ops` copy that no query used, and the survey's index."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0005_answers_response_checked_by_statement"),
    ]

    operations = [
        # The new constraint first: the nonces are never without one.
        migrations.AddConstraint(
            model_name="submissionnonce",
            constraint=models.UniqueConstraint(
                fields=("survey", "digest"), name="surveys_nonce_once_per_survey"
            ),
        ),
        migrations.AlterField(
            model_name="submissionnonce",
            name="digest",
            field=models.CharField(max_length=64),
        ),
        migrations.AlterField(
            model_name="submissionnonce",
            name="survey",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="surveys.survey",
            ),
        ),
    ]
