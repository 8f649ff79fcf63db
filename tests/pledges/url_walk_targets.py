"""URL-walk targets for the pledges app: a draft Östhammar pledge (never
public) whose texts only Östhammar's officials may read."""

from datetime import date

from pledges.models import Commitment, Pledge
from tests.pledges.factories import ActionFactory, CommitmentFactory, PledgeFactory
from tests.portal.url_walk import Target, filler, secret, target


@target(Pledge)
def _pledge(ctx):
    pledge = PledgeFactory(
        municipality=ctx.municipality,
        kommun=ctx.organisations["kommun"],
        police=ctx.organisations["police"],
        valid_from=date(2030, 1, 1),
        valid_to=date(2030, 12, 31),
        background=secret("bakgrund"),
    )
    return Target(pledge, identity=[pledge.background], secrets=[pledge.background])


@target(Commitment)
def _commitment(ctx):
    pledge = ctx.get(Pledge).obj
    commitment = CommitmentFactory(pledge=pledge, title=secret("lofte"))
    action = ActionFactory(commitment=commitment, title=secret("atgard"))
    return Target(commitment, identity=[commitment.title], secrets=[commitment.title, action.title])


@filler("period", url_name="pledges:detail")
def _period(ctx):
    # The draft's would-be address: a draft is a 404 to everyone outside.
    return [str(ctx.get(Pledge).obj.valid_from.year)]


@filler("organisation_id", url_name="admin:pledges_pledge_adopt")
def _adopting_organisation(ctx):
    return [str(ctx.organisations["kommun"].pk), str(ctx.organisations["police"].pk)]
