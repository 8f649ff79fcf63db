"""Generated (not real) responses for the demo and the benchmark.

`generate_responses(survey, n, seed)` bulk-inserts n responses with their
answers, following the distributions of docs/domain.md: Östhammar's
"ute ensam sent" distribution (42/36/11/4/3/4 %), women about twice as often
unsafe as men. Deterministic for a given seed and survey structure.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from surveys.models import Answer, Question, Response, Survey

# "ute ensam sent i bostadsområdet", Östhammar (domain.md).
SAFETY_OUT = {
    "mycket_trygg": 42,
    "ganska_trygg": 36,
    "ganska_otrygg": 11,
    "mycket_otrygg": 4,
    "gar_inte_ut_otrygghet": 3,
    "gar_inte_ut_andra_skal": 2,
    "vet_ej": 2,
}
UNSAFE = {"ganska_otrygg", "mycket_otrygg", "gar_inte_ut_otrygghet"}
FIXED = {
    "kon": {"kvinna": 50, "man": 47, "annat": 1, "vill_inte_svara": 2},
    "alder": {
        "16_24": 10,
        "25_34": 12,
        "35_44": 14,
        "45_54": 16,
        "55_64": 17,
        "65_74": 17,
        "75_84": 10,
        "85_plus": 3,
        "vill_inte_svara": 1,
    },
    "boendeform": {"flerfamiljshus": 30, "smahus": 62, "annat": 5, "vill_inte_svara": 3},
    "undviker_platser": {"nej": 70, "ja_en_plats": 20, "ja_flera_platser": 10},
}
SUGGESTIONS = [
    "Bättre belysning längs gång- och cykelvägarna (genererat exempel).",
    "Mer synlig polis på kvällar och helger (genererat exempel).",
    "Fler vuxna ute på kvällarna, t.ex. nattvandrare (genererat exempel).",
    "Röj buskarna vid busshållplatsen (genererat exempel).",
]
PLACES = [
    "Gångtunneln under vägen (genererat exempel).",
    "Parkeringen vid centrum på kvällen (genererat exempel).",
    "Busshållplatsen, dåligt upplyst (genererat exempel).",
]


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _safety_weights(gender: str, improvement: float) -> dict[str, float]:
    # Women about twice as often unsafe as men; `improvement` (0.0–0.3)
    # moves some of the unsafe share to "ganska trygg".
    factor = {"kvinna": 1.35, "man": 0.65}.get(gender, 1.0) * (1 - improvement)
    weights = {k: (v * factor if k in UNSAFE else v) for k, v in SAFETY_OUT.items()}
    weights["ganska_trygg"] += sum(SAFETY_OUT[k] for k in UNSAFE) - sum(weights[k] for k in UNSAFE)
    return weights


def _scale_weights(n: int, rng_bias: float) -> list[float]:
    # Decreasing weights over an ordered scale, e.g. 45/30/15/7/3 %.
    base = [0.45, 0.30, 0.15, 0.07, 0.03, 0.02, 0.02, 0.01, 0.01][:n]
    return [w * (1 + rng_bias * i) for i, w in enumerate(base)]


@transaction.atomic
def generate_responses(survey: Survey, n: int, seed: int, *, improvement: float = 0.0) -> int:
    """Bulk-insert `n` generated responses; returns the number created."""
    rng = random.Random(seed)  # noqa: S311 - generated demo data, not security
    questions = list(survey.questions.in_form_order())
    districts = list(survey.municipality.districts.all())
    district_weights = [d.population or 100 for d in districts]
    start = timezone.localdate(survey.opens_at)
    end = min(timezone.localdate(survey.closes_at), timezone.localdate())
    days = max((end - start).days, 0)
    languages = [code for code in (survey.languages or ["sv"])]
    responses = [
        Response(
            survey=survey,
            date=start + timedelta(days=min(int(rng.expovariate(1 / max(days / 3, 1))), days)),
            language="sv" if rng.random() < 0.92 or len(languages) == 1 else rng.choice(languages),
            channel=Response.Channel.PAPER if rng.random() < 0.1 else Response.Channel.WEB,
        )
        for _ in range(n)
    ]
    Response.objects.bulk_create(responses, batch_size=1000)
    answers: list[Answer] = []
    for response in responses:
        # Background first: the safety answer depends on gender.
        chosen: dict[str, str] = {"kon": _pick(rng, FIXED["kon"])}
        for q in questions:
            choices = {c.key: c for c in q.choices.all()}
            if q.kind == Question.Kind.SINGLE and choices:
                if not q.required and rng.random() < 0.05:
                    continue
                if q.key == "trygghet_ute_kvall":
                    key = _pick(rng, _safety_weights(chosen.get("kon", ""), improvement))
                elif q.key == "kon":
                    key = chosen["kon"]
                elif q.key in FIXED:
                    key = _pick(rng, FIXED[q.key])
                elif q.key == "omrade" and districts:
                    district = rng.choices(districts, weights=district_weights)[0]
                    key = next(
                        (k for k, c in choices.items() if c.text("sv") == district.name),
                        next(iter(choices)),
                    )
                else:
                    keys = list(choices)
                    key = rng.choices(keys, weights=_scale_weights(len(keys), rng.random()))[0]
                if key not in choices:
                    continue
                chosen[q.key] = key
                answers.append(Answer(response=response, question=q, choice=choices[key]))
            elif q.kind == Question.Kind.MULTIPLE and choices:
                if chosen.get("undviker_platser", "nej") == "nej" and rng.random() < 0.9:
                    continue
                for key in rng.sample(list(choices), k=min(len(choices), rng.randint(1, 2))):
                    c = choices[key]
                    text = "Ingen vuxen i närheten (genererat exempel)." if c.allows_text else None
                    answers.append(Answer(response=response, question=q, choice=c, text=text))
            elif q.kind == Question.Kind.PLACE and districts:
                if chosen.get("undviker_platser", "nej") != "nej" and rng.random() < 0.7:
                    answers.append(
                        Answer(
                            response=response,
                            question=q,
                            district=rng.choices(districts, weights=district_weights)[0],
                            text=rng.choice(PLACES),
                        )
                    )
            elif q.kind == Question.Kind.TEXT and rng.random() < 0.12:
                answers.append(Answer(response=response, question=q, text=rng.choice(SUGGESTIONS)))
    Answer.objects.bulk_create(answers, batch_size=2000)
    return len(responses)
