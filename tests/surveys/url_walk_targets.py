"""URL-walk targets for the surveys app: an open Östhammar survey with
published results and a free-text answer that only Östhammar's officials
may read."""

from datetime import date

from surveys.models import Answer, Question, Response, Section, Survey
from tests.portal.url_walk import Target, filler, secret, target
from tests.surveys.factories import SurveyFactory


@target(Survey)
def _survey(ctx):
    survey = SurveyFactory(
        municipality=ctx.municipality,
        title="Trygghetsenkät Östhammar walk",
        slug="walk-enkat",
        results_published=True,
    )
    section = Section.objects.create(survey=survey, key="forslag", texts={"sv": "Förslag"})
    question = Question.objects.create(
        survey=survey,
        section=section,
        key="forslag_fritext",
        kind=Question.Kind.TEXT,
        texts={"sv": "Vad vill du att kommunen gör?"},
    )
    free_text = secret("fritext")
    response = Response.objects.create(survey=survey, date=date.today(), language="sv")
    Answer.objects.create(response=response, question=question, text=free_text)
    # Free text is never public and only for the survey's own officials.
    return Target(survey, identity=[survey.title], secrets=[free_text], public=True)


@target(Question)
def _question(ctx):
    survey = ctx.get(Survey).obj
    question = survey.questions.get()
    return Target(question, identity=[question.texts["sv"]], public=True)


@filler("slug", url_name="surveys:survey")
@filler("slug", url_name="surveys:thanks")
def _survey_slug(ctx):
    return [ctx.get(Survey).obj.slug]


@filler("slug", url_name="surveys:results")
def _results_slug(ctx):
    # Published results, and a survey whose results are not published yet:
    # a preview for its own officials (with the second factor), a 404 to
    # everyone else.
    unpublished, _ = Survey.objects.get_or_create(
        municipality=ctx.municipality,
        slug="walk-opublicerad",
        defaults={
            "title": "Opublicerad walk",
            "opens_at": ctx.get(Survey).obj.opens_at,
            "closes_at": ctx.get(Survey).obj.closes_at,
            "results_published": False,
        },
    )
    return [ctx.get(Survey).obj.slug, unpublished.slug]
