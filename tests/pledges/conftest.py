"""Fixtures for the pledges tests: pledges with content in every state."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from pledges import services
from pledges.models import Pledge
from portal.models import Membership
from tests.factories import MembershipFactory, UserFactory
from tests.pledges.factories import ActionFactory, CommitmentFactory, ContactFactory, PledgeFactory


@pytest.fixture
def make_pledge(osthammar, kommun, police, partner):
    """A pledge with `commitments` commitments of `actions` actions each."""

    def _make(
        *,
        commitments=1,
        actions=1,
        year=2021,
        municipality=None,
        kommun_org=None,
        contacts=1,
    ):
        pledge = PledgeFactory(
            municipality=municipality or osthammar,
            kommun=kommun_org or kommun,
            police=police,
            valid_from=date(year, 1, 1),
            valid_to=date(year, 12, 31),
        )
        for c in range(commitments):
            commitment = CommitmentFactory(pledge=pledge, position=c)
            for a in range(actions):
                ActionFactory(
                    commitment=commitment,
                    position=a,
                    responsible=[pledge.kommun, police],
                    partners=[partner] if pledge.municipality_id == osthammar.pk else [],
                    outcome_note="Fler anmälningar kan vara ett positivt utfall." if a == 0 else "",
                )
        for n in range(contacts):
            ContactFactory(pledge=pledge, position=n, name=f"Kontakt {n}")
        services.pledge_content_saved(pledge=pledge)
        pledge.refresh_from_db()
        return pledge

    return _make


@pytest.fixture
def draft(make_pledge):
    return make_pledge()


@pytest.fixture
def adopt_both(kommun, police, kommun_approver, police_approver):
    def _adopt(pledge):
        services.pledge_adopt(pledge=pledge, user=kommun_approver, organisation=kommun)
        services.pledge_adopt(pledge=pledge, user=police_approver, organisation=police)
        pledge.refresh_from_db()
        return pledge

    return _adopt


@pytest.fixture
def publish(adopt_both, kommun_editor):
    def _publish(pledge, publish_at=None):
        adopt_both(pledge)
        services.pledge_publish(pledge=pledge, user=kommun_editor, publish_at=publish_at)
        pledge.refresh_from_db()
        return pledge

    return _publish


@pytest.fixture
def published(draft, publish):
    return publish(draft)


@pytest.fixture
def adopted(draft, adopt_both):
    return adopt_both(draft)


@pytest.fixture
def scheduled(draft, publish):
    return publish(draft, publish_at=timezone.now() + timedelta(days=3))


@pytest.fixture
def current(make_pledge, publish):
    """A published pledge for this year: the municipality's current one."""
    return publish(make_pledge(year=timezone.localdate().year))


@pytest.fixture
def tierp_approver(tierp_kommun):
    return MembershipFactory(
        user=UserFactory(username="tierp_approver"),
        organisation=tierp_kommun,
        role=Membership.Role.APPROVER,
        title="Kommunstyrelsens ordförande",
    ).user


def refresh(pledge) -> Pledge:
    return Pledge.objects.get(pk=pledge.pk)
