"""Complete, valid survey submissions for load generators.

Each body answers every question of the survey (randomly, from a fixed
seed) and carries its own signed one-time token, so that every body is a
new response; the CSRF cookie/token pair is shared. Built in-process with
the server's SECRET_KEY, exactly as the form would render them.
"""

from __future__ import annotations

import random
from urllib.parse import urlencode

from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret

from surveys import security
from surveys.models import Question, Survey


def csrf_pair() -> tuple[str, str]:
    """(cookie value, form token) that Django's CSRF check accepts."""
    secret = _get_new_csrf_string()
    return secret, _mask_cipher_secret(secret)


_STRUCTURE: dict[int, tuple[list, list]] = {}


def _structure(survey: Survey) -> tuple[list, list]:
    if survey.pk not in _STRUCTURE:
        _STRUCTURE[survey.pk] = (
            list(survey.questions.in_form_order()),
            [str(pk) for pk in survey.municipality.districts.values_list("pk", flat=True)],
        )
    return _STRUCTURE[survey.pk]


def answer_fields(survey: Survey, rng: random.Random) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    questions, districts = _structure(survey)
    for q in questions:
        name = f"q_{q.key}"
        choices = list(q.choices.all())
        if q.kind == Question.Kind.SINGLE and choices:
            fields.append((name, str(rng.choice(choices).pk)))
        elif q.kind == Question.Kind.MULTIPLE and choices:
            plain = [c for c in choices if not c.allows_text] or choices
            fields.append((name, str(rng.choice(plain).pk)))
        elif q.kind == Question.Kind.TEXT and rng.random() < 0.3:
            fields.append((name, "Bättre belysning vid busshållplatsen (genererat)."))
        elif q.kind == Question.Kind.PLACE and districts and rng.random() < 0.3:
            fields.append((name, rng.choice(districts)))
    return fields


def submission_body(survey: Survey, csrf_token: str, rng: random.Random, **extra) -> str:
    fields = [
        ("csrfmiddlewaretoken", csrf_token),
        ("token", security.token_issue(survey)),
        ("form_language", "sv"),
        ("send", "1"),
        *answer_fields(survey, rng),
        *extra.items(),
    ]
    return urlencode(fields)


def write_bodies(survey: Survey, path, count: int, *, seed: int = 1, csrf=None) -> str:
    """Write `count` bodies, one per line; returns the CSRF cookie value."""
    cookie, token = csrf or csrf_pair()
    rng = random.Random(seed)
    with open(path, "w") as out:
        for _ in range(count):
            out.write(submission_body(survey, token, rng) + "\n")
    return cookie
