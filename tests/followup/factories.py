"""Factories for the follow-up tests: reports, plans, indicators, meetings,
and small surveys with a home-safety question and exact answer counts."""

from datetime import date, datetime, timedelta

import factory
from django.utils import timezone

from followup.models import ActionReport, ForumMeeting, Indicator, ReportingPlan, Status
from surveys.models import Answer, Choice, Question, Response, Section, Survey

HOME_CHOICES = ["mycket_trygg", "ganska_trygg", "ganska_otrygg", "mycket_otrygg", "vet_ej"]


class ActionReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionReport

    date = date(2021, 4, 28)
    status = Status.IN_PROGRESS
    text = "Två möten har hållits."


class ReportingPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportingPlan

    interval_months = 4
    first_due = date(2021, 4, 30)


class ForumMeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ForumMeeting

    date = date(2021, 9, 16)
    forum = "Trygg i Östhammar"
    summary = "Forumet gick igenom lägesrapporterna."


def home_survey(
    municipality, year: int, counts: dict[str, int], *, published=True, genders=None
) -> Survey:
    """A closed survey from the autumn of `year` with the question
    trygghet_hemmet answered `counts[choice]` times per choice. With
    `genders` ({(choice, gender): count}), the answers also get the
    background question "kon" (kvinna, man, annat)."""
    opens = timezone.make_aware(datetime(year, 10, 1, 9, 0))
    survey = Survey.objects.create(
        municipality=municipality,
        title=f"Trygghetsenkät hösten {year}",
        slug=f"hosten-{year}",
        opens_at=opens,
        closes_at=opens + timedelta(days=30),
        languages=["sv"],
        results_published=published,
    )
    section = Section.objects.create(survey=survey, key="a_trygghet", texts={"sv": "Trygghet"})
    question = Question.objects.create(
        survey=survey,
        section=section,
        key="trygghet_hemmet",
        kind="single",
        texts={"sv": "Hur trygg eller otrygg känner du dig i ditt hem?"},
    )
    choices = {
        key: Choice.objects.create(question=question, key=key, position=i, texts={"sv": key})
        for i, key in enumerate(HOME_CHOICES)
    }
    responses = Response.objects.bulk_create(
        [
            Response(survey=survey, date=date(year, 10, 5), language="sv")
            for _ in range(sum(counts.values()))
        ]
    )
    answers = []
    it = iter(responses)
    for key, n in counts.items():
        for _ in range(n):
            answers.append(Answer(response=next(it), question=question, choice=choices[key]))
    if genders:
        kon = Question.objects.create(
            survey=survey, section=section, key="kon", kind="single", texts={"sv": "Kön"}
        )
        gender_choices = {
            key: Choice.objects.create(
                question=kon, key=key, position=i, texts={"sv": key.capitalize()}
            )
            for i, key in enumerate(["kvinna", "man", "annat"])
        }
        by_choice: dict[str, list] = {}
        for answer in answers:
            by_choice.setdefault(answer.choice.key, []).append(answer.response)
        extra = []
        for (choice, gender), n in genders.items():
            for _ in range(n):
                response = by_choice[choice].pop()
                extra.append(Answer(response=response, question=kon, choice=gender_choices[gender]))
        Answer.objects.bulk_create(extra)
    Answer.objects.bulk_create(answers)
    return survey


def home_indicator(pledge, baseline, **extra) -> Indicator:
    fields = {
        "pledge": pledge,
        "name": "Andel som känner sig trygga i hemmet",
        "question_key": "trygghet_hemmet",
        "favourable_choices": ["mycket_trygg", "ganska_trygg"],
        "excluded_choices": ["vet_ej"],
        "baseline_survey": baseline,
        **extra,
    }
    return Indicator.objects.create(**fields)
