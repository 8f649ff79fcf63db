"""Benchmark data: copies of the standard-template survey filled with N
generated responses, written in SQL (INSERT … SELECT generate_series) so a
million responses take minutes, not hours. Answers are uniform random over
each question's choices: realistic in volume and shape, not in content."""

from __future__ import annotations

import time
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from surveys import services
from surveys.models import Response, Survey

# Ids are random, as the models give them (surveys/anonymity.py); here 63
# bits from PostgreSQL's random(), enough for generated data.
FILL_SQL = """
WITH new_responses AS (
    INSERT INTO surveys_response (id, survey_id, date, language, channel)
    SELECT (floor(random() * 2147483648)::bigint << 32) | floor(random() * 4294967296)::bigint, %(survey)s, DATE '2025-10-01' + (g %% 25), 'sv', 'web'
    FROM generate_series(1, %(n)s) AS g
    RETURNING id
),
question_choices AS (
    SELECT q.id AS question_id, array_agg(c.id ORDER BY c.position) AS ids
    FROM surveys_question q JOIN surveys_choice c ON c.question_id = q.id
    WHERE q.survey_id = %(survey)s AND q.kind IN ('single', 'multiple')
    GROUP BY q.id
)
INSERT INTO surveys_answer (id, response_id, question_id, choice_id)
SELECT (floor(random() * 2147483648)::bigint << 32) | floor(random() * 4294967296)::bigint, r.id, qc.question_id, qc.ids[1 + floor(random() * cardinality(qc.ids))::int]
FROM new_responses r CROSS JOIN question_choices qc
"""


def bench_survey(source: Survey, size: int) -> Survey:
    """A closed survey with published results and exactly `size` responses
    (created, or topped up, on first use; reused by later runs)."""
    slug = f"bench-{size}"
    now = timezone.now()
    survey, created = Survey.objects.get_or_create(
        municipality=source.municipality,
        slug=slug,
        defaults={
            "title": f"Benchmark {size:,} svar (genererat)".replace(",", " "),
            "opens_at": now - timedelta(days=400),
            "closes_at": now - timedelta(days=300),
            "results_published": True,
            "generated": True,
            "languages": ["sv"],
        },
    )
    if created:
        services.survey_copy_questions(source=source, target=survey)
    have = Response.objects.filter(survey=survey).count()
    missing = size - have
    started = time.monotonic()
    while missing > 0:
        batch = min(missing, 100_000)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(FILL_SQL, {"survey": survey.pk, "n": batch})
        missing -= batch
        print(f"  {slug}: {size - missing:,} / {size:,} responses".replace(",", " "), flush=True)
    if have < size:
        with connection.cursor() as cursor:
            # VACUUM as autovacuum would after a survey closes: the results'
            # index-only scans then skip the table (visibility map set).
            cursor.execute("VACUUM (ANALYZE) surveys_response")
            cursor.execute("VACUUM (ANALYZE) surveys_answer")
        print(f"  {slug}: generated in {time.monotonic() - started:.0f} s", flush=True)
    return survey
