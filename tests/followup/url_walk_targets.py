"""URL-walk targets for the follow-up app: a published Östhammar pledge
with a reporting plan, a public and an internal report (whose text only
Östhammar's officials may read), an indicator and a forum meeting."""

from datetime import date

from django.utils import timezone

from followup.models import ActionReport, DueAction, ForumMeeting, Indicator, ReportingPlan
from pledges.models import Pledge
from tests.followup.factories import home_survey
from tests.pledges.factories import ActionFactory, CommitmentFactory, PledgeFactory
from tests.portal.url_walk import Target, filler, secret, target


def _pledge(ctx) -> Pledge:
    """The follow-up's own published pledge (2019, so it does not collide
    with other apps' walk pledges)."""
    found = Pledge.objects.filter(municipality=ctx.municipality, slug="2019").first()
    if found is not None:
        return found
    pledge = PledgeFactory(
        municipality=ctx.municipality,
        kommun=ctx.organisations["kommun"],
        police=ctx.organisations.get("police", ctx.organisations["kommun"]),
        valid_from=date(2019, 1, 1),
        valid_to=date(2019, 12, 31),
        slug="2019",
        published_at=timezone.now(),
    )
    commitment = CommitmentFactory(pledge=pledge, title="Uppföljningslöfte walk")
    ActionFactory(
        commitment=commitment,
        title="Uppföljningsåtgärd walk",
        responsible=[ctx.organisations["kommun"]],
    )
    return pledge


def _action(ctx):
    return _pledge(ctx).commitments.get().actions.get()


@target(ActionReport)
def _report(ctx):
    action = _action(ctx)
    ActionReport.objects.create(
        action=action, date=date(2019, 5, 2), status="in_progress", text="Publik rapport walk"
    )
    internal_text = secret("intern-rapport")
    internal = ActionReport.objects.create(
        action=action,
        date=date(2019, 6, 2),
        status="delayed",
        text=internal_text,
        reason="Intern orsak",
        is_public=False,
    )
    return Target(internal, identity=[internal_text], secrets=[internal_text])


@target(ReportingPlan)
def _plan(ctx):
    plan = ReportingPlan.objects.create(
        pledge=_pledge(ctx), interval_months=4, first_due=date(2019, 4, 30)
    )
    return Target(plan, identity=["Rapporteringsplan"], public=True)


@target(Indicator)
def _indicator(ctx):
    survey = home_survey(ctx.municipality, 2018, {"mycket_trygg": 6, "mycket_otrygg": 3})
    indicator = Indicator.objects.create(
        pledge=_pledge(ctx),
        name="Trygga i hemmet walk",
        question_key="trygghet_hemmet",
        favourable_choices=["mycket_trygg"],
        excluded_choices=["vet_ej"],
        baseline_survey=survey,
    )
    return Target(indicator, identity=[indicator.name], public=True)


@target(ForumMeeting)
def _meeting(ctx):
    meeting = ForumMeeting.objects.create(
        municipality=ctx.municipality,
        date=date(2019, 9, 1),
        forum="Trygg i Östhammar walk",
        summary="Publik sammanfattning walk",
    )
    meeting.actions.set([_action(ctx)])
    return Target(meeting, identity=[meeting.forum], public=True)


@target(DueAction)
def _due_action(ctx):
    action = DueAction.objects.get(pk=_action(ctx).pk)
    return Target(action, identity=[action.title], public=True)


@filler("period", url_name="followup:followup")
@filler("period", url_name="followup:report")
def _period(ctx):
    for model in (ActionReport, ReportingPlan, Indicator, ForumMeeting):
        ctx.get(model)
    return [_pledge(ctx).slug]
