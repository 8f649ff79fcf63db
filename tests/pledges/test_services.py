from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from pledges import services
from pledges.models import Action, Adoption, Commitment, Pledge
from tests.pledges.conftest import refresh
from tests.pledges.factories import ContactFactory

# --- the fingerprint ------------------------------------------------------


def test_the_fingerprint_is_stable_for_unchanged_content(draft):
    assert services.pledge_fingerprint(draft.pk) == services.pledge_fingerprint(draft.pk)
    assert len(draft.fingerprint) == 64


def _change_pledge_text(p):
    Pledge.objects.filter(pk=p.pk).update(background="Ny bakgrund")


def _change_period(p):
    Pledge.objects.filter(pk=p.pk).update(valid_to=date(2022, 6, 30))


def _change_commitment(p):
    Commitment.objects.filter(pledge=p).update(purpose="Nytt syfte")


def _change_action(p):
    Action.objects.filter(commitment__pledge=p).update(description="Ny beskrivning")


def _change_responsible(p):
    action = Action.objects.filter(commitment__pledge=p).first()
    action.responsible.remove(p.police)


def _change_partners(p):
    action = Action.objects.filter(commitment__pledge=p).first()
    action.partners.clear()


def _change_order(p):
    first, _second = Action.objects.filter(commitment__pledge=p).order_by("position")
    Action.objects.filter(pk=first.pk).update(position=5)


@pytest.mark.parametrize(
    "change",
    [
        _change_pledge_text,
        _change_period,
        _change_commitment,
        _change_action,
        _change_responsible,
        _change_partners,
        _change_order,
    ],
)
def test_the_fingerprint_changes_with_any_adopted_content(make_pledge, change):
    pledge = make_pledge(actions=2)
    before = services.pledge_fingerprint(pledge.pk)
    change(pledge)
    assert services.pledge_fingerprint(pledge.pk) != before


def test_contacts_are_adopted_content(draft):
    before = services.pledge_fingerprint(draft.pk)
    ContactFactory(pledge=draft, name="Ny kontakt", position=9)
    assert services.pledge_fingerprint(draft.pk) != before


# --- adopting -------------------------------------------------------------


def test_an_approver_adopts_for_their_organisation(draft, kommun, kommun_approver):
    adoption = services.pledge_adopt(pledge=draft, user=kommun_approver, organisation=kommun)
    assert adoption.side == "kommun"
    assert adoption.title == "Kommunstyrelsens ordförande"
    assert adoption.name == "Kommun"
    assert adoption.fingerprint == services.pledge_fingerprint(draft.pk)
    assert adoption.adopted_at <= timezone.now()
    assert adoption.history.first().history_user == kommun_approver


@pytest.mark.parametrize("user", ["kommun_editor", "police_editor"])
def test_an_editor_cannot_adopt(request, draft, kommun, police, user):
    official = request.getfixturevalue(user)
    for org in (kommun, police):
        with pytest.raises(PermissionDenied):
            services.pledge_adopt(pledge=draft, user=official, organisation=org)
    assert not Adoption.objects.exists()


def test_an_approver_adopts_only_for_their_own_organisation(
    draft, kommun, police, kommun_approver, police_approver
):
    with pytest.raises(PermissionDenied, match="Bara en fastställare i Lokalpolisområde"):
        services.pledge_adopt(pledge=draft, user=kommun_approver, organisation=police)
    with pytest.raises(PermissionDenied):
        services.pledge_adopt(pledge=draft, user=police_approver, organisation=kommun)


def test_an_approver_of_another_municipality_cannot_adopt(draft, kommun, tierp_approver):
    with pytest.raises(PermissionDenied):
        services.pledge_adopt(pledge=draft, user=tierp_approver, organisation=kommun)


def test_a_superuser_is_not_an_approver(draft, kommun, site_admin):
    with pytest.raises(PermissionDenied):
        services.pledge_adopt(pledge=draft, user=site_admin, organisation=kommun)


def test_nobody_adopts_twice_for_one_side(draft, kommun, kommun_approver):
    services.pledge_adopt(pledge=draft, user=kommun_approver, organisation=kommun)
    with pytest.raises(ValidationError, match="redan fastställt"):
        services.pledge_adopt(pledge=draft, user=kommun_approver, organisation=kommun)
    assert Adoption.objects.filter(pledge=draft).count() == 1


def test_only_an_issuing_party_can_adopt(draft, partner, kommun_approver):
    with pytest.raises(ValidationError, match="inte en av parterna"):
        services.pledge_adopt(pledge=draft, user=kommun_approver, organisation=partner)


def test_an_incomplete_pledge_cannot_be_adopted(make_pledge, kommun, kommun_approver):
    pledge = make_pledge(actions=0)
    with pytest.raises(ValidationError) as exc:
        services.pledge_adopt(pledge=pledge, user=kommun_approver, organisation=kommun)
    assert "har inga åtgärder" in exc.value.messages[0]


def test_an_action_without_a_responsible_organisation_cannot_be_adopted(
    draft, kommun, kommun_approver
):
    Action.objects.get(commitment__pledge=draft).responsible.clear()
    with pytest.raises(ValidationError, match="ingen ansvarig organisation"):
        services.pledge_adopt(pledge=draft, user=kommun_approver, organisation=kommun)


def test_four_commitments_cannot_be_adopted(make_pledge, kommun, kommun_approver):
    pledge = make_pledge(commitments=4)
    with pytest.raises(ValidationError, match="ett till tre löften"):
        services.pledge_adopt(pledge=pledge, user=kommun_approver, organisation=kommun)


# --- voiding ------------------------------------------------------------------


def test_changing_adopted_content_voids_both_adoptions(adopted, kommun_editor):
    Commitment.objects.filter(pledge=adopted).update(title="Ändrad rubrik")
    check = services.pledge_content_saved(pledge=adopted, user=kommun_editor)
    assert {a.organisation.name for a in check.voided} == {
        "Östhammars kommun",
        "Lokalpolisområde Norduppland",
    }
    kept = Adoption.objects.filter(pledge=adopted)
    assert kept.count() == 2  # kept for the history
    assert all(a.voided_at and "ändrades" in a.void_reason for a in kept)
    annotated = Pledge.objects.with_adoption_state().get(pk=adopted.pk)
    assert not annotated.kommun_adopted and not annotated.police_adopted


def test_saving_unchanged_content_voids_nothing(adopted, kommun_editor):
    check = services.pledge_content_saved(pledge=adopted, user=kommun_editor)
    assert check.voided == []
    assert Adoption.objects.filter(pledge=adopted, voided_at__isnull=True).count() == 2


def test_a_voided_side_can_adopt_again(adopted, kommun, kommun_approver):
    Pledge.objects.filter(pk=adopted.pk).update(follow_up="Ny uppföljning")
    services.pledge_content_saved(pledge=adopted)
    services.pledge_adopt(pledge=adopted, user=kommun_approver, organisation=kommun)
    assert Adoption.objects.filter(pledge=adopted, voided_at__isnull=True).count() == 1


def test_a_scheduled_pledge_is_unscheduled_when_its_adoptions_are_voided(scheduled):
    Action.objects.filter(commitment__pledge=scheduled).update(title="Ny åtgärd")
    check = services.pledge_content_saved(pledge=scheduled)
    assert check.unscheduled
    assert refresh(scheduled).published_at is None


# --- publishing ---------------------------------------------------------------


def test_publishing_needs_both_adoptions(draft, kommun, kommun_approver, kommun_editor):
    with pytest.raises(ValidationError, match="Inte fastställt av: Östhammars kommun, Lokalpolis"):
        services.pledge_publish(pledge=draft, user=kommun_editor)
    services.pledge_adopt(pledge=draft, user=kommun_approver, organisation=kommun)
    with pytest.raises(ValidationError, match="Inte fastställt av: Lokalpolisområde"):
        services.pledge_publish(pledge=draft, user=kommun_editor)
    assert refresh(draft).published_at is None


def test_publishing_needs_both_to_have_adopted_the_same_content(
    draft, kommun, police, kommun_approver, police_approver, kommun_editor
):
    services.pledge_adopt(pledge=draft, user=kommun_approver, organisation=kommun)
    # Changed behind the admin's back: publish re-checks the content.
    Pledge.objects.filter(pk=draft.pk).update(background="Ändrad")
    services.pledge_adopt(pledge=draft, user=police_approver, organisation=police)
    with pytest.raises(ValidationError, match="Inte fastställt av: Östhammars kommun"):
        services.pledge_publish(pledge=draft, user=kommun_editor)


def test_publishing_now_makes_it_public_with_a_readable_address(adopted, kommun_editor):
    pledge = services.pledge_publish(pledge=adopted, user=kommun_editor)
    assert pledge.slug == "2021"
    assert pledge.is_public()
    assert pledge.get_absolute_url() == "/osthammar/medborgarlofte/2021/"
    assert pledge.history.first().history_user == kommun_editor


def test_a_multi_year_pledge_gets_a_span_address(make_pledge, publish, osthammar):
    pledge = make_pledge()
    Pledge.objects.filter(pk=pledge.pk).update(
        valid_from=date(2023, 1, 1), valid_to=date(2024, 12, 31)
    )
    services.pledge_content_saved(pledge=pledge)
    pledge = publish(refresh(pledge))
    assert pledge.get_absolute_url() == "/osthammar/medborgarlofte/2023-2024/"


def test_a_scheduled_pledge_waits_for_its_time(adopted, kommun_editor):
    when = timezone.now() + timedelta(days=2)
    pledge = services.pledge_publish(pledge=adopted, user=kommun_editor, publish_at=when)
    assert pledge.is_scheduled() and not pledge.is_public()
    assert pledge.is_public(now=when + timedelta(seconds=1))


def test_it_refuses_a_publishing_time_in_the_past(adopted, kommun_editor):
    with pytest.raises(ValidationError, match="tidpunkt i framtiden"):
        services.pledge_publish(
            pledge=adopted, user=kommun_editor, publish_at=timezone.now() - timedelta(hours=1)
        )


def test_publishing_twice_is_refused(published, kommun_editor):
    with pytest.raises(ValidationError, match="redan publicerat"):
        services.pledge_publish(pledge=published, user=kommun_editor)


def test_an_official_of_another_municipality_cannot_publish(adopted, other_kommun_editor):
    with pytest.raises(PermissionDenied):
        services.pledge_publish(pledge=adopted, user=other_kommun_editor)


def test_publishing_rechecks_the_overlap_rule(make_pledge, publish, adopt_both, kommun_editor):
    first = publish(make_pledge(year=2021))
    second = adopt_both(make_pledge(year=2022))
    # Stretch the second into 2021 behind the form's back.
    Pledge.objects.filter(pk=second.pk).update(valid_from=date(2021, 6, 1))
    services.pledge_content_saved(pledge=second)
    Adoption.objects.filter(pledge=second).update(
        fingerprint=services.pledge_fingerprint(second.pk), voided_at=None
    )
    with pytest.raises(ValidationError, match="överlappar medborgarlöftet 2021"):
        services.pledge_publish(pledge=second, user=kommun_editor)
    assert first.is_public()


def test_a_republished_period_gets_a_new_address(published, make_pledge, publish, kommun_editor):
    services.pledge_withdraw(pledge=published, user=kommun_editor, reason="Ersatt.")
    again = publish(make_pledge(year=2021))
    assert again.slug == "2021-2"
    assert refresh(published).slug == "2021"


def test_unscheduling_keeps_the_adoptions(scheduled, kommun_editor):
    services.pledge_unschedule(pledge=scheduled, user=kommun_editor)
    assert refresh(scheduled).published_at is None
    assert Adoption.objects.filter(pledge=scheduled, voided_at__isnull=True).count() == 2


# --- withdrawing --------------------------------------------------------------


def test_withdrawing_needs_a_reason(published, kommun_editor):
    with pytest.raises(ValidationError, match="Ange skälet"):
        services.pledge_withdraw(pledge=published, user=kommun_editor, reason="   ")
    assert refresh(published).withdrawn_at is None


def test_withdrawing_keeps_who_when_and_why(published, police_editor):
    pledge = services.pledge_withdraw(
        pledge=published, user=police_editor, reason="Löftet ersätts av ett nytt."
    )
    assert pledge.withdrawn_by == police_editor
    assert pledge.withdrawal_reason == "Löftet ersätts av ett nytt."
    assert pledge.is_withdrawn


def test_only_a_published_pledge_can_be_withdrawn(adopted, kommun_editor):
    with pytest.raises(ValidationError, match="Bara ett publicerat"):
        services.pledge_withdraw(pledge=adopted, user=kommun_editor, reason="x")


def test_a_withdrawn_pledge_cannot_be_adopted_or_published(
    published, kommun, kommun_editor, kommun_approver
):
    services.pledge_withdraw(pledge=published, user=kommun_editor, reason="x")
    with pytest.raises(ValidationError, match="återkallats"):
        services.pledge_adopt(pledge=published, user=kommun_approver, organisation=kommun)
    with pytest.raises(ValidationError, match="återkallats"):
        services.pledge_publish(pledge=published, user=kommun_editor)


def test_every_service_bumps_the_cache_version(draft, adopt_both, kommun_editor):
    stamps = [refresh(draft).updated]
    adopt_both(draft)
    stamps.append(refresh(draft).updated)
    services.pledge_publish(pledge=draft, user=kommun_editor)
    stamps.append(refresh(draft).updated)
    services.pledge_withdraw(pledge=draft, user=kommun_editor, reason="x")
    stamps.append(refresh(draft).updated)
    assert stamps == sorted(stamps) and len(set(stamps)) == 4
