from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from pledges.models import Pledge, period_label
from tests.pledges.factories import ContactFactory, PledgeFactory


def test_the_period_is_a_year_or_a_span_of_years():
    assert period_label(date(2021, 1, 1), date(2021, 12, 31)) == "2021"
    assert period_label(date(2023, 1, 1), date(2024, 12, 31)) == "2023-2024"
    pledge = Pledge(valid_from=date(2023, 1, 1), valid_to=date(2024, 12, 31))
    assert pledge.period_display == "2023–2024"


def test_it_rejects_an_overlapping_period_and_names_the_other_pledge(
    draft, osthammar, kommun, police
):
    other = Pledge(
        municipality=osthammar,
        kommun=kommun,
        police=police,
        valid_from=date(2021, 6, 1),
        valid_to=date(2022, 5, 31),
        background="x",
        follow_up="y",
    )
    with pytest.raises(ValidationError) as exc:
        other.full_clean()
    message = " ".join(exc.value.message_dict["valid_from"])
    assert "överlappar medborgarlöftet 2021 (2021-01-01 – 2021-12-31)" in message


def test_a_withdrawn_pledge_does_not_block_the_period(
    published, kommun_editor, osthammar, kommun, police
):
    from pledges import services

    services.pledge_withdraw(pledge=published, user=kommun_editor, reason="Fel period.")
    again = Pledge(
        municipality=osthammar,
        kommun=kommun,
        police=police,
        valid_from=date(2021, 1, 1),
        valid_to=date(2021, 12, 31),
        background="x",
        follow_up="y",
    )
    again.full_clean()


def test_another_municipality_may_use_the_same_period(draft, tierp, tierp_kommun, police):
    Pledge(
        municipality=tierp,
        kommun=tierp_kommun,
        police=police,
        valid_from=date(2021, 1, 1),
        valid_to=date(2021, 12, 31),
        background="x",
        follow_up="y",
    ).full_clean()


def test_it_rejects_a_period_that_ends_before_it_starts(osthammar, kommun, police):
    pledge = Pledge(
        municipality=osthammar,
        kommun=kommun,
        police=police,
        valid_from=date(2022, 1, 1),
        valid_to=date(2021, 1, 1),
        background="x",
        follow_up="y",
    )
    with pytest.raises(ValidationError) as exc:
        pledge.full_clean()
    assert "Perioden måste sluta" in " ".join(exc.value.message_dict["valid_to"])


def test_the_issuing_parties_must_serve_the_municipality(osthammar, tierp_kommun, police, partner):
    pledge = Pledge(
        municipality=osthammar,
        kommun=tierp_kommun,
        police=partner,
        valid_from=date(2021, 1, 1),
        valid_to=date(2021, 12, 31),
        background="x",
        follow_up="y",
    )
    with pytest.raises(ValidationError) as exc:
        pledge.clean()
    assert "Tierps kommun verkar inte i Östhammars kommun" in exc.value.message_dict["kommun"][0]
    assert "inte en organisation av typen polis" in exc.value.message_dict["police"][0]


def test_a_contact_needs_a_phone_or_an_email(draft):
    contact = ContactFactory.build(pledge=draft, email="", phone="")
    with pytest.raises(ValidationError, match="telefonnummer eller en e-postadress"):
        contact.full_clean()


def test_published_means_published_at_has_passed(scheduled):
    assert not Pledge.objects.published().filter(pk=scheduled.pk).exists()
    later = scheduled.published_at + timedelta(minutes=1)
    assert Pledge.objects.published(now=later).filter(pk=scheduled.pk).exists()


def test_current_is_the_published_pledge_covering_today(current, make_pledge, publish):
    old = publish(make_pledge(year=2019))
    assert list(Pledge.objects.current()) == [current]
    assert old in Pledge.objects.published()


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("draft", "draft"),
        ("adopted", "adopted"),
        ("scheduled", "scheduled"),
        ("published", "published"),
    ],
)
def test_the_status_follows_the_state(request, fixture, status):
    pledge = request.getfixturevalue(fixture)
    annotated = Pledge.objects.with_adoption_state().get(pk=pledge.pk)
    assert (
        annotated.get_status(
            kommun_adopted=annotated.kommun_adopted, police_adopted=annotated.police_adopted
        )
        == status
    )


def test_a_withdrawn_pledge_has_status_withdrawn(published, kommun_editor):
    from pledges import services

    services.pledge_withdraw(pledge=published, user=kommun_editor, reason="Skäl.")
    pledge = Pledge.objects.get(pk=published.pk)
    assert pledge.get_status(kommun_adopted=True, police_adopted=True) == "withdrawn"
    assert pledge.is_locked()


def test_the_database_refuses_a_reversed_period(osthammar, kommun, police):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        PledgeFactory(
            municipality=osthammar,
            kommun=kommun,
            police=police,
            valid_from=date(2022, 1, 1),
            valid_to=date(2021, 1, 1),
        )


def test_str_names_the_period(draft):
    assert str(draft) == "Medborgarlöfte 2021"


def test_the_database_allows_one_valid_adoption_per_side(adopted):
    from django.db import IntegrityError, transaction

    from pledges.models import Adoption

    first = Adoption.objects.filter(pledge=adopted, side="kommun").get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Adoption.objects.create(
            pledge=adopted,
            organisation=first.organisation,
            side="kommun",
            name="Någon annan",
            adopted_at=first.adopted_at,
            fingerprint=first.fingerprint,
        )
    Adoption.objects.filter(pk=first.pk).update(voided_at=first.adopted_at)
    Adoption.objects.create(
        pledge=adopted,
        organisation=first.organisation,
        side="kommun",
        name="Ny fastställare",
        adopted_at=first.adopted_at,
        fingerprint=first.fingerprint,
    )
