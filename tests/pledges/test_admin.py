from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from pledges import services
from pledges.models import Action, Adoption, Commitment, Pledge
from tests.pledges.conftest import refresh

CHANGELIST = "/admin/pledges/pledge/"


def change_url(pledge):
    return reverse("admin:pledges_pledge_change", args=[pledge.pk])


def _management(prefix, total, initial, data):
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": str(total),
            f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
    )


def shown(pledge) -> dict:
    """What the adopt page posts back: the fingerprint it showed (now)."""
    return {"fingerprint": services.pledge_fingerprint(pledge.pk)}


def pledge_data(pledge=None, **overrides):
    """The change form's POST data for `pledge` (or an empty new one)."""
    data = {}
    if pledge is not None:
        data.update(
            {
                "municipality": pledge.municipality_id,
                "kommun": pledge.kommun_id,
                "police": pledge.police_id,
                "valid_from": pledge.valid_from.isoformat(),
                "valid_to": pledge.valid_to.isoformat(),
                "background": pledge.background,
                "follow_up": pledge.follow_up,
                "decision_reference": pledge.decision_reference,
            }
        )
        commitments = list(pledge.commitments.order_by("position", "pk"))
        contacts = list(pledge.contacts.order_by("position", "pk"))
        adoptions = list(pledge.adoptions.order_by("adopted_at"))
    else:
        commitments, contacts, adoptions = [], [], []
    _management("commitments", len(commitments), len(commitments), data)
    for i, c in enumerate(commitments):
        data.update(
            {
                f"commitments-{i}-id": c.pk,
                f"commitments-{i}-pledge": pledge.pk,
                f"commitments-{i}-position": c.position,
                f"commitments-{i}-title": c.title,
                f"commitments-{i}-purpose": c.purpose,
                f"commitments-{i}-focus": c.focus,
            }
        )
    _management("contacts", len(contacts), len(contacts), data)
    for i, c in enumerate(contacts):
        data.update(
            {
                f"contacts-{i}-id": c.pk,
                f"contacts-{i}-pledge": pledge.pk,
                f"contacts-{i}-position": c.position,
                f"contacts-{i}-name": c.name,
                f"contacts-{i}-role": c.role,
                f"contacts-{i}-organisation": c.organisation,
                f"contacts-{i}-phone": c.phone,
                f"contacts-{i}-email": c.email,
            }
        )
    _management("adoptions", len(adoptions), len(adoptions), data)
    for i, a in enumerate(adoptions):
        data.update({f"adoptions-{i}-id": a.pk, f"adoptions-{i}-pledge": pledge.pk})
    data.update(overrides)
    return data


def new_pledge_data(osthammar, kommun, police, **overrides):
    data = pledge_data(
        municipality=osthammar.pk,
        kommun=kommun.pk,
        police=police.pk,
        valid_from="2021-06-01",
        valid_to="2022-05-31",
        background="Bakgrund.",
        follow_up="Uppföljning.",
        decision_reference="",
    )
    _management("commitments", 1, 0, data)
    data.update(
        {
            "commitments-0-position": "1",
            "commitments-0-title": "Ett nytt löfte",
            "commitments-0-purpose": "Syftet är att öka tryggheten.",
            "commitments-0-focus": "",
        }
    )
    data.update(overrides)
    return data


def commitment_data(commitment, **overrides):
    data = {
        "position": commitment.position,
        "title": commitment.title,
        "purpose": commitment.purpose,
        "focus": commitment.focus,
    }
    actions = list(commitment.actions.order_by("position", "pk"))
    _management("actions", len(actions), len(actions), data)
    for i, a in enumerate(actions):
        data.update(
            {
                f"actions-{i}-id": a.pk,
                f"actions-{i}-commitment": commitment.pk,
                f"actions-{i}-position": a.position,
                f"actions-{i}-title": a.title,
                f"actions-{i}-description": a.description,
                f"actions-{i}-responsible": [o.pk for o in a.responsible.all()],
                f"actions-{i}-partners": [o.pk for o in a.partners.all()],
                f"actions-{i}-outcome_note": a.outcome_note,
            }
        )
    data.update(overrides)
    return data


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- scope: who sees what --------------------------------------------------------

MATRIX = [
    # user, sees Östhammar's pledge, sees Tierp's pledge
    ("kommun_editor", True, False),
    ("kommun_approver", True, False),
    ("police_editor", True, True),
    ("police_approver", True, True),
    ("other_kommun_editor", False, True),
    ("site_admin", True, True),
]


@pytest.fixture
def tierp_draft(make_pledge, tierp, tierp_kommun):
    return make_pledge(municipality=tierp, kommun_org=tierp_kommun)


@pytest.mark.parametrize(("user", "sees_osthammar", "sees_tierp"), MATRIX)
def test_the_changelist_shows_only_pledges_in_scope(
    request, login, draft, tierp_draft, user, sees_osthammar, sees_tierp
):
    client = login(request.getfixturevalue(user))
    html = client.get(CHANGELIST).content.decode()
    assert (change_url(draft) in html) is sees_osthammar
    assert (change_url(tierp_draft) in html) is sees_tierp


@pytest.mark.parametrize(("user", "sees_osthammar", "sees_tierp"), MATRIX)
def test_the_change_view_and_custom_views_follow_the_scope(
    request, login, draft, user, sees_osthammar, sees_tierp
):
    client = login(request.getfixturevalue(user))
    response = client.get(change_url(draft))
    assert response.status_code == (200 if sees_osthammar else 302)
    for name in ["preview", "publish", "withdraw", "full_history"]:
        url = reverse(f"admin:pledges_pledge_{name}", args=[draft.pk])
        assert client.get(url).status_code == (200 if sees_osthammar else 404), name
    adopt = reverse("admin:pledges_pledge_adopt", args=[draft.pk, draft.kommun_id])
    assert client.get(adopt).status_code == (200 if sees_osthammar else 404)


def test_anonymous_visitors_are_sent_to_the_login(client, draft):
    for url in [
        CHANGELIST,
        change_url(draft),
        reverse("admin:pledges_pledge_preview", args=[draft.pk]),
        reverse("admin:pledges_pledge_adopt", args=[draft.pk, draft.kommun_id]),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    response = client.post(reverse("admin:pledges_pledge_adopt", args=[draft.pk, draft.kommun_id]))
    assert response.status_code == 302 and not Adoption.objects.exists()


# --- adopting through the admin -------------------------------------------------

ADOPT_MATRIX = [
    # user, organisation to adopt for, adopted?
    ("kommun_editor", "kommun", False),
    ("kommun_approver", "kommun", True),
    ("kommun_approver", "police", False),
    ("police_editor", "police", False),
    ("police_approver", "police", True),
    ("police_approver", "kommun", False),
    ("site_admin", "kommun", False),
]


@pytest.mark.parametrize(("user", "side", "adopted"), ADOPT_MATRIX)
def test_adopting_in_the_admin_follows_the_roles(request, login, draft, user, side, adopted):
    client = login(request.getfixturevalue(user))
    org = request.getfixturevalue(side)
    response = client.post(
        reverse("admin:pledges_pledge_adopt", args=[draft.pk, org.pk]),
        shown(draft),
        follow=True,
    )
    assert response.status_code == 200
    assert Adoption.objects.filter(pledge=draft, organisation=org).exists() is adopted
    text = " ".join(messages_of(response))
    if adopted:
        assert f"Du har fastställt medborgarlöftet för {org.name}" in text
    else:
        assert "Bara en fastställare" in text


def test_another_municipalitys_editor_cannot_adopt(login, draft, other_kommun_editor):
    response = login(other_kommun_editor).post(
        reverse("admin:pledges_pledge_adopt", args=[draft.pk, draft.kommun_id])
    )
    assert response.status_code == 404
    assert not Adoption.objects.exists()


def test_the_adopt_button_is_offered_only_for_the_approvers_own_side(login, draft, kommun_approver):
    html = login(kommun_approver).get(change_url(draft)).content.decode()
    assert "Fastställ för Östhammars kommun" in html
    assert "Fastställ för Lokalpolisområde Norduppland" not in html
    assert "inte fastställt" in html


def test_an_editor_gets_no_adopt_button(login, draft, kommun_editor):
    html = login(kommun_editor).get(change_url(draft)).content.decode()
    assert "Fastställ för" not in html


def test_adopting_twice_in_the_admin_is_refused(login, draft, kommun, kommun_approver):
    client = login(kommun_approver)
    url = reverse("admin:pledges_pledge_adopt", args=[draft.pk, kommun.pk])
    client.post(url, shown(draft))
    response = client.post(url, shown(draft), follow=True)
    assert "redan fastställt" in " ".join(messages_of(response))
    assert Adoption.objects.filter(pledge=draft).count() == 1


# --- editing voids adoptions ---------------------------------------------------------


def test_changing_the_pledge_in_the_admin_voids_the_adoptions(login, adopted, kommun_editor):
    response = login(kommun_editor).post(
        change_url(adopted), pledge_data(adopted, background="Ny bakgrund."), follow=True
    )
    text = " ".join(messages_of(response))
    assert "fastställandet av Östhammars kommun, Lokalpolisområde Norduppland har upphävts" in text
    assert not Adoption.objects.filter(pledge=adopted, voided_at__isnull=True).exists()
    assert Adoption.objects.filter(pledge=adopted).count() == 2


def test_saving_the_pledge_unchanged_keeps_the_adoptions(login, adopted, kommun_editor):
    response = login(kommun_editor).post(change_url(adopted), pledge_data(adopted), follow=True)
    assert "upphävts" not in " ".join(messages_of(response))
    assert Adoption.objects.filter(pledge=adopted, voided_at__isnull=True).count() == 2


def test_changing_a_contact_voids_the_adoptions(login, adopted, kommun_editor):
    # Residents are told whom to call: that is adopted content too.
    data = pledge_data(adopted, **{"contacts-0-phone": "070-174 06 06"})
    login(kommun_editor).post(change_url(adopted), data)
    assert adopted.contacts.get().phone == "070-174 06 06"
    assert not Adoption.objects.filter(pledge=adopted, voided_at__isnull=True).exists()


def test_changing_an_action_in_the_admin_voids_the_adoptions(login, adopted, police_editor):
    commitment = adopted.commitments.get()
    url = reverse("admin:pledges_commitment_change", args=[commitment.pk])
    response = login(police_editor).post(
        url, commitment_data(commitment, **{"actions-0-title": "Ändrad åtgärd"}), follow=True
    )
    assert "har upphävts" in " ".join(messages_of(response))
    assert response.redirect_chain[-1][0] == change_url(adopted)
    assert Action.objects.get(commitment=commitment).title == "Ändrad åtgärd"
    assert not Adoption.objects.filter(pledge=adopted, voided_at__isnull=True).exists()


def test_reordering_actions_voids_the_adoptions(login, make_pledge, adopt_both, kommun_editor):
    pledge = adopt_both(make_pledge(actions=2))
    commitment = pledge.commitments.get()
    data = commitment_data(commitment, **{"actions-0-position": "9"})
    login(kommun_editor).post(
        reverse("admin:pledges_commitment_change", args=[commitment.pk]), data
    )
    titles = list(commitment.actions.order_by("position").values_list("title", flat=True))
    assert titles[-1].startswith("Åtgärd")
    assert not Adoption.objects.filter(pledge=pledge, voided_at__isnull=True).exists()


def test_an_action_needs_organisations_serving_the_municipality(
    login, draft, tierp_kommun, police_editor
):
    commitment = draft.commitments.get()
    data = commitment_data(commitment, **{"actions-0-partners": [tierp_kommun.pk]})
    response = login(police_editor).post(
        reverse("admin:pledges_commitment_change", args=[commitment.pk]), data
    )
    assert response.status_code == 200
    assert "Tierps kommun verkar inte i Östhammars kommun" in response.content.decode()
    assert not Action.objects.filter(partners=tierp_kommun).exists()


def test_a_commitment_page_is_out_of_reach_for_another_municipality(
    login, draft, other_kommun_editor
):
    commitment = draft.commitments.get()
    client = login(other_kommun_editor)
    response = client.get(reverse("admin:pledges_commitment_change", args=[commitment.pk]))
    assert response.status_code == 302
    response = client.post(
        reverse("admin:pledges_commitment_change", args=[commitment.pk]),
        commitment_data(commitment, title="Hackad"),
    )
    assert Commitment.objects.get(pk=commitment.pk).title != "Hackad"


def test_organisation_autocomplete_is_limited_to_the_scope(
    login, draft, tierp_kommun, kommun_editor, partner
):
    response = login(kommun_editor).get(
        "/admin/autocomplete/",
        {"app_label": "pledges", "model_name": "action", "field_name": "partners", "term": ""},
    )
    names = {r["text"] for r in response.json()["results"]}
    assert "Östhammarshem" in names
    assert "Tierps kommun" not in names


# --- creating: overlap and scope -------------------------------------------------------


def test_creating_an_overlapping_pledge_names_the_other_one(
    login, draft, osthammar, kommun, police, kommun_editor
):
    response = login(kommun_editor).post(
        reverse("admin:pledges_pledge_add"), new_pledge_data(osthammar, kommun, police)
    )
    assert response.status_code == 200
    assert (
        "Perioden överlappar medborgarlöftet 2021 (2021-01-01 – 2021-12-31)"
        in response.content.decode()
    )
    assert Pledge.objects.count() == 1


def test_an_editor_creates_a_pledge_with_its_commitment(
    login, osthammar, kommun, police, kommun_editor
):
    response = login(kommun_editor).post(
        reverse("admin:pledges_pledge_add"), new_pledge_data(osthammar, kommun, police)
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    pledge = Pledge.objects.get()
    assert pledge.commitments.get().title == "Ett nytt löfte"
    assert len(pledge.fingerprint) == 64
    assert pledge.history.first().history_user == kommun_editor


def test_an_editor_cannot_create_a_pledge_for_another_municipality(
    login, tierp, tierp_kommun, police, kommun_editor
):
    response = login(kommun_editor).post(
        reverse("admin:pledges_pledge_add"), new_pledge_data(tierp, tierp_kommun, police)
    )
    assert response.status_code == 200
    assert not Pledge.objects.exists()


def test_a_pledge_needs_at_least_one_commitment(login, osthammar, kommun, police, kommun_editor):
    data = new_pledge_data(osthammar, kommun, police)
    _management("commitments", 0, 0, data)
    response = login(kommun_editor).post(reverse("admin:pledges_pledge_add"), data)
    assert response.status_code == 200
    assert "Ett medborgarlöfte har ett till tre löften." in response.content.decode()
    assert not Pledge.objects.exists()


def test_a_pledge_has_at_most_three_commitments(login, osthammar, kommun, police, kommun_editor):
    data = new_pledge_data(osthammar, kommun, police)
    _management("commitments", 4, 0, data)
    for i in range(4):
        data.update(
            {
                f"commitments-{i}-position": str(i),
                f"commitments-{i}-title": f"Löfte {i}",
                f"commitments-{i}-purpose": "Syfte.",
            }
        )
    response = login(kommun_editor).post(reverse("admin:pledges_pledge_add"), data)
    assert response.status_code == 200
    assert "Ett medborgarlöfte har ett till tre löften." in response.content.decode()
    assert not Pledge.objects.exists()


# --- publishing and withdrawing in the admin -------------------------------------------


def test_publishing_in_the_admin(login, adopted, kommun_editor, client):
    response = login(kommun_editor).post(
        reverse("admin:pledges_pledge_publish", args=[adopted.pk]), {"when": "now"}, follow=True
    )
    assert "Medborgarlöftet är publicerat." in " ".join(messages_of(response))
    assert refresh(adopted).is_public()


def test_publishing_without_adoptions_shows_why(login, draft, kommun_editor):
    response = login(kommun_editor).post(
        reverse("admin:pledges_pledge_publish", args=[draft.pk]), {"when": "now"}
    )
    assert response.status_code == 200
    assert "båda parterna har fastställt samma innehåll" in response.content.decode()
    assert refresh(draft).published_at is None


def test_scheduling_in_the_admin(login, adopted, kommun_editor):
    when = timezone.localtime(timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = login(kommun_editor).post(
        reverse("admin:pledges_pledge_publish", args=[adopted.pk]),
        {"when": "later", "publish_at": when},
        follow=True,
    )
    assert "publiceras" in " ".join(messages_of(response))
    assert refresh(adopted).is_scheduled()


def test_scheduling_needs_a_time(login, adopted, kommun_editor):
    response = login(kommun_editor).post(
        reverse("admin:pledges_pledge_publish", args=[adopted.pk]), {"when": "later"}
    )
    assert "Ange när löftet ska publiceras." in response.content.decode()


def test_withdrawing_in_the_admin_needs_a_reason(login, published, kommun_editor):
    client = login(kommun_editor)
    url = reverse("admin:pledges_pledge_withdraw", args=[published.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and refresh(published).withdrawn_at is None
    response = client.post(url, {"reason": "Ersatt av ett nytt löfte."}, follow=True)
    assert "Medborgarlöftet har återkallats." in " ".join(messages_of(response))
    assert refresh(published).withdrawal_reason == "Ersatt av ett nytt löfte."


def test_the_adopted_content_of_a_published_pledge_is_read_only(login, published, kommun_editor):
    login(kommun_editor).post(change_url(published), pledge_data(published, background="Ändrad"))
    pledge = refresh(published)
    assert pledge.background != "Ändrad"
    assert Adoption.objects.filter(pledge=pledge, voided_at__isnull=True).count() == 2
    commitment = pledge.commitments.get()
    response = login(kommun_editor).post(
        reverse("admin:pledges_commitment_change", args=[commitment.pk]),
        commitment_data(commitment, title="Ändrad"),
    )
    assert response.status_code == 403
    assert Commitment.objects.get(pk=commitment.pk).title != "Ändrad"


def test_a_published_pledge_cannot_be_deleted(login, published, kommun_editor, site_admin):
    for user in (kommun_editor, site_admin):
        url = reverse("admin:pledges_pledge_delete", args=[published.pk])
        assert login(user).get(url).status_code == 403
    assert Pledge.objects.filter(pk=published.pk).exists()


def test_a_draft_can_be_deleted_by_its_editor(login, draft, kommun_editor):
    url = reverse("admin:pledges_pledge_delete", args=[draft.pk])
    login(kommun_editor).post(url, {"post": "yes"})
    assert not Pledge.objects.exists()


def test_deleting_a_commitment_leads_back_to_its_pledge(login, make_pledge, kommun_editor):
    pledge = make_pledge(commitments=2)
    commitment = pledge.commitments.first()
    client = login(kommun_editor)
    url = reverse("admin:pledges_commitment_delete", args=[commitment.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:pledges_pledge_change", args=[pledge.pk])
    assert pledge.commitments.count() == 1


# --- preview and history ----------------------------------------------------------------


@pytest.mark.parametrize("state", ["draft", "adopted", "scheduled"])
def test_officials_preview_unpublished_pledges_clearly_marked(
    request, login, kommun_editor, state, client
):
    pledge = request.getfixturevalue(state)
    html = (
        login(kommun_editor)
        .get(reverse("admin:pledges_pledge_preview", args=[pledge.pk]))
        .content.decode()
    )
    assert "Förhandsvisning – inte publicerad" in html
    assert "Detta genom att:" in html
    assert "<h1>Medborgarlöfte 2021 – Östhammars kommun</h1>" in html


def test_the_full_history_shows_who_changed_what(login, adopted, kommun_editor):
    client = login(kommun_editor)
    client.post(change_url(adopted), pledge_data(adopted, background="Ny bakgrund."))
    html = client.get(
        reverse("admin:pledges_pledge_full_history", args=[adopted.pk])
    ).content.decode()
    assert "Ny bakgrund." in html
    assert "Bakgrund" in html or "bakgrund" in html
    assert "Kommun" in html  # the editor's name
    assert "fastställande" in html.lower()
    assert "upphävt" in html.lower()


def test_view_on_site_leads_to_the_preview_until_published(login, draft, publish, kommun_editor):
    client = login(kommun_editor)
    preview = reverse("admin:pledges_pledge_preview", args=[draft.pk])
    assert preview in client.get(change_url(draft)).content.decode()
    publish(draft)
    assert (
        'href="/osthammar/medborgarlofte/2021/"' in client.get(change_url(draft)).content.decode()
    )


def test_the_standard_history_page_works(login, draft, kommun_editor):
    response = login(kommun_editor).get(reverse("admin:pledges_pledge_history", args=[draft.pk]))
    assert response.status_code == 200


# --- the changelist's queries ---------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 20])
def test_the_changelist_runs_a_fixed_number_of_queries(
    login, make_pledge, adopt_both, kommun_editor, size, django_assert_num_queries
):
    for n in range(size):
        pledge = make_pledge(year=2000 + n, commitments=3, actions=size)
        if n % 2:
            adopt_both(pledge)
    client = login(kommun_editor)
    client.get(CHANGELIST)  # the first admin request also refreshes the idle timeout
    # session, user, memberships, the user's and groups' permissions (may
    # this official read accessibility feedback, for the menu), two counts,
    # the page of pledges
    with django_assert_num_queries(8):
        response = client.get(CHANGELIST)
    assert response.content.decode().count("/change/") >= size


def test_the_full_history_names_changed_partners(login, draft, kommun_editor, partner):
    commitment = draft.commitments.get()
    client = login(kommun_editor)
    client.post(
        reverse("admin:pledges_commitment_change", args=[commitment.pk]),
        commitment_data(commitment, **{"actions-0-partners": []}),
    )
    html = client.get(
        reverse("admin:pledges_pledge_full_history", args=[draft.pk])
    ).content.decode()
    assert "samarbetspartner</strong>: Östhammarshem → –" in html


def test_an_admin_edit_invalidates_the_cached_public_page(login, published, kommun_editor, client):
    url = published.get_absolute_url()
    assert "Kontakt 0" in client.get(url).content.decode()  # now cached
    # Nothing residents read changes on a published pledge but through the
    # services (all its content is adopted): a withdrawal in the admin.
    editor = login(kommun_editor)
    editor.post(
        reverse("admin:pledges_pledge_withdraw", args=[published.pk]),
        {"reason": "Ersatt av ett nytt löfte"},
    )
    editor.logout()
    assert "Ersatt av ett nytt löfte" in client.get(url).content.decode()


def test_the_contacts_of_a_published_pledge_are_locked(login, published, kommun_editor):
    editor = login(kommun_editor)
    editor.post(
        change_url(published), pledge_data(published, **{"contacts-0-name": "Ny Kontaktperson"})
    )
    assert published.contacts.get().name == "Kontakt 0"


def test_the_full_history_names_who_published(login, published, kommun_editor):
    html = (
        login(kommun_editor)
        .get(reverse("admin:pledges_pledge_full_history", args=[published.pk]))
        .content.decode()
    )
    assert "publicerat av</strong>: – → Kommun" in html
