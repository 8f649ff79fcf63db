"""Demo surveys for Östhammar: autumn 2020 (results published; the basis
of the 2021 pledge), autumn 2021 (for the follow-up comparison) and one
survey open now; and for Tierp an open survey by invitation, with some codes
already used. The responses are generated (fixed seed, bulk insert) and
the pages say so, except the invitation survey's, which are answered with
their codes through the real submission service and then go through the
anonymity batch (surveys/anonymity.py), as in production. Idempotent: a
second run adds nothing."""

import random
import uuid
from datetime import datetime, time, timedelta

from django.utils import timezone

from portal.demo_utils import upsert
from surveys import anonymity, security, services
from surveys.generate import generate_responses
from surveys.models import LANGUAGE_CODES, Survey

INTRO = (
    "Kommunen och polisen vill veta hur trygg du känner dig där du bor. Svaren används när vi "
    "bestämmer vad nästa medborgarlöfte ska handla om. Det tar ungefär tio minuter att svara."
)
INTRO_TEXTS = {
    "en": (
        "The municipality and the police want to know how safe you feel where you live. The "
        "answers are used when we decide what the next citizen pledge will be about. It takes "
        "about ten minutes to answer."
    ),
    "fi": (
        "Kunta ja poliisi haluavat tietää, kuinka turvalliseksi tunnet olosi asuinalueellasi. "
        "Vastauksia käytetään, kun päätämme, mitä seuraava kansalaislupaus koskee. Vastaaminen "
        "vie noin kymmenen minuuttia."
    ),
}


def _at(year, month, day, hour=0, minute=0):
    return timezone.make_aware(
        datetime.combine(datetime(year, month, day).date(), time(hour, minute))
    )


def _survey(municipality, slug, defaults, *, responses, seed, improvement=0.0, stdout=None):
    survey, _ = upsert(Survey, {"municipality": municipality, "slug": slug}, defaults)
    if not survey.questions.exists():
        if survey.copied_from_id:
            services.survey_copy_questions(source=survey.copied_from, target=survey)
        else:
            services.survey_apply_template(survey=survey)
    if responses and not survey.responses.exists():
        generate_responses(survey, responses, seed, improvement=improvement)
        if stdout:
            stdout.write(f"  {survey.title}: {responses} genererade svar")
    return survey


def load(*, stdout=None, context=None) -> dict:
    osthammar = context["municipalities"]["osthammar"]
    common = {"intro": INTRO, "intro_texts": INTRO_TEXTS, "languages": list(LANGUAGE_CODES)}
    surveys = {}
    surveys["osthammar-2020"] = _survey(
        osthammar,
        "hosten-2020",
        {
            **common,
            "title": "Trygghetsenkät hösten 2020",
            "opens_at": _at(2020, 10, 7),
            "closes_at": _at(2020, 11, 2, 23, 59),
            "results_published": True,
            "generated": True,
        },
        responses=420,
        seed=2020,
        stdout=stdout,
    )
    surveys["osthammar-2021"] = _survey(
        osthammar,
        "hosten-2021",
        {
            **common,
            "title": "Trygghetsenkät hösten 2021",
            "opens_at": _at(2021, 10, 6),
            "closes_at": _at(2021, 11, 2, 23, 59),
            "results_published": True,
            "generated": True,
            "copied_from": surveys["osthammar-2020"],
        },
        responses=380,
        seed=2021,
        improvement=0.15,
        stdout=stdout,
    )
    # The open survey's dates are set relative to "now" only when it is
    # first created, so that a second run changes nothing.
    current = Survey.objects.filter(municipality=osthammar, slug="trygghetsenkat-2026").first()
    if current is None:
        now = timezone.now()
        current = Survey.objects.create(
            municipality=osthammar,
            slug="trygghetsenkat-2026",
            title="Trygghetsenkät 2026",
            opens_at=now - timedelta(days=30),
            closes_at=now + timedelta(days=60),
            **common,
        )
        services.survey_copy_questions(source=surveys["osthammar-2021"], target=current)
    surveys["osthammar-open"] = current
    surveys["tierp-invitation"] = _invitation_survey(
        context["municipalities"]["tierp"], common, stdout=stdout
    )
    # Also run by cron every 5 minutes in production (README); here once,
    # so a fresh `make run` shows responses already rewritten.
    anonymity.responses_shuffle()
    return {"surveys": surveys}


INVITATION_CODES = 40
INVITATION_ANSWERED = 12


def _invitation_survey(municipality, common, *, stdout=None) -> Survey:
    survey = Survey.objects.filter(municipality=municipality, slug="inbjudan-2026").first()
    if survey is not None:
        return survey
    now = timezone.now()
    survey = Survey.objects.create(
        municipality=municipality,
        slug="inbjudan-2026",
        title="Trygghetsenkät 2026 (inbjudan)",
        mode=Survey.Mode.INVITATION,
        opens_at=now - timedelta(days=7),
        closes_at=now + timedelta(days=60),
        **common,
    )
    services.survey_apply_template(survey=survey)
    codes = services.invitations_generate(survey=survey, count=INVITATION_CODES)
    rng = random.Random(2026)  # generated demo data, not security
    questions = list(survey.questions.filter(kind="single").prefetch_related("choices"))
    for code in codes[:INVITATION_ANSWERED]:
        answers = [
            services.AnswerData(q.pk, choice_id=rng.choice(list(q.choices.all())).pk)
            for q in questions
        ]
        services.response_submit(
            survey=survey,
            token=security.Token(survey.pk, uuid.uuid4().hex * 2),
            submission=services.Submission(language="sv", answers=answers, code=code),
        )
    if stdout:
        stdout.write(
            f"  {survey.title}: {INVITATION_CODES} koder, {INVITATION_ANSWERED} använda; "
            f"oanvända att prova med: {', '.join(codes[-3:])}"
        )
    return survey
