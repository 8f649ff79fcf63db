"""An approver adopts exactly what they were shown, and everything the
public sees on a pledge is adopted content or set only by the services.

The public fields are found from the models: every field of Pledge,
Commitment, Action and Contact that a public template names
(`pledge.background`, `action.partners`, ...). Each is proven to be in the
fingerprint (changing it changes the fingerprint) or set only by the
services (read-only in the admin), so a new field on the public page cannot
silently escape adoption."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.db import models
from django.test import RequestFactory
from django.urls import reverse

from pledges import services
from pledges.admin.common import CONTENT_FIELDS
from pledges.models import Action, Adoption, Commitment, Contact, Pledge
from portal.models import Municipality, Organisation
from tests.factories import OrganisationFactory
from tests.surveys.factories import SurveyFactory

pytestmark = pytest.mark.django_db

VARIABLES = {"pledge": Pledge, "commitment": Commitment, "action": Action, "contact": Contact}


def public_templates() -> list[Path]:
    """The templates residents' pages render (not the admin's)."""
    root = Path(settings.BASE_DIR)
    paths = []
    for folder in [root / "templates", *root.glob("*/templates")]:
        for path in folder.rglob("*.html"):
            if "admin" not in path.relative_to(folder).parts:
                paths.append(path)
    return paths


def public_fields() -> set[tuple[type, str]]:
    used: set[tuple[str, str]] = set()
    for path in public_templates():
        for var, attr in re.findall(
            r"\b(pledge|commitment|action|contact)\.(\w+)", path.read_text()
        ):
            used.add((var, attr))
    result = set()
    for var, model in VARIABLES.items():
        for field in model._meta.get_fields():
            if (
                (field.concrete or field.many_to_many)
                and (var, field.name) in used
                and not field.auto_created
            ):
                result.add((model, field.name))
    return result


def _instance(pledge, model):
    if model is Pledge:
        return pledge
    if model is Commitment:
        return pledge.commitments.first()
    if model is Action:
        return Action.objects.filter(commitment__pledge=pledge).first()
    return pledge.contacts.first()


def _change(pledge, model, name) -> None:
    """Give field `name` of the pledge's first `model` another value."""
    obj = _instance(pledge, model)
    field = model._meta.get_field(name)
    if field.many_to_many:
        getattr(obj, name).add(OrganisationFactory())
        return
    if isinstance(field, models.ForeignKey):
        related = field.related_model
        if related is Municipality:
            value = Municipality.objects.exclude(pk=obj.municipality_id).first()
        elif related is Organisation:
            value = OrganisationFactory(kind=getattr(obj, name).kind)
        else:
            value = SurveyFactory(municipality=pledge.municipality)
        model.objects.filter(pk=obj.pk).update(**{name: value})
        return
    current = getattr(obj, name)
    if isinstance(field, models.BooleanField):
        value = not current
    elif isinstance(field, models.DateTimeField):
        value = (current or pledge.created) - timedelta(days=1)
    elif isinstance(field, models.DateField):
        value = current - timedelta(days=1) if name == "valid_from" else current + timedelta(days=1)
    elif isinstance(field, models.EmailField):
        value = "ny.adress@example.se"
    else:
        value = f"{current} ändrad"
    model.objects.filter(pk=obj.pk).update(**{name: value})


def test_every_public_field_is_adopted_content_or_set_only_by_the_services(make_pledge, tierp):
    fields = public_fields()
    names = {(m.__name__, n) for m, n in fields}
    # The walk finds what the pledge page shows, the based-on survey and the
    # example flag included.
    assert {("Pledge", "based_on_survey"), ("Pledge", "is_example"), ("Contact", "phone")} <= names
    assert ("Action", "partners") in names and ("Commitment", "purpose") in names
    pledge_admin = admin.site.get_model_admin(Pledge)
    set_by_services = set(pledge_admin.base_readonly)
    for model, name in sorted(fields, key=lambda f: (f[0].__name__, f[1])):
        pledge = make_pledge()
        before = services.pledge_fingerprint(pledge.pk)
        _change(pledge, model, name)
        in_fingerprint = services.pledge_fingerprint(pledge.pk) != before
        locked = model is Pledge and name in set_by_services
        assert in_fingerprint or locked, (
            f"{model.__name__}.{name} is on the public page but neither adopted content nor "
            "set only by the services"
        )


def test_the_adopted_fields_of_a_published_pledge_are_read_only(published, kommun_editor):
    request = RequestFactory().get("/")
    request.user = kommun_editor
    readonly = admin.site.get_model_admin(Pledge).get_readonly_fields(request, published)
    for key in services.ADOPTED_PLEDGE_FIELDS:
        assert key.removesuffix("_id") in readonly, key
    assert "based_on_survey" in CONTENT_FIELDS


def test_changing_the_based_on_survey_of_an_adopted_pledge_voids_the_adoptions(adopted):
    Pledge.objects.filter(pk=adopted.pk).update(
        based_on_survey=SurveyFactory(municipality=adopted.municipality)
    )
    check = services.pledge_content_saved(pledge=adopted)
    assert len(check.voided) == 2


# --- the adopt page posts back the fingerprint it showed --------------------------


def _adopt_url(pledge, org):
    return reverse("admin:pledges_pledge_adopt", args=[pledge.pk, org.pk])


def _hidden(html: str) -> dict:
    return dict(
        re.findall(r'<input type="hidden" name="(fingerprint|content)" value="([^"]*)"', html)
    )


def test_the_adopt_page_posts_the_fingerprint_it_shows(login, draft, kommun, kommun_approver):
    html = login(kommun_approver).get(_adopt_url(draft, kommun)).content.decode()
    fields = _hidden(html)
    assert fields["fingerprint"] == services.pledge_fingerprint(draft.pk)
    assert fields["fingerprint"] in html.replace(f'value="{fields["fingerprint"]}"', "")


def test_an_edit_after_the_page_was_opened_adopts_nothing_and_says_what_changed(
    login, make_pledge, kommun, kommun_approver, kommun_editor, police_editor
):
    pledge = make_pledge(commitments=2, actions=2)
    approver = login(kommun_approver)
    fields = _hidden(approver.get(_adopt_url(pledge, kommun)).content.decode())

    # Meanwhile an editor changes a commitment's purpose and an action's title.
    commitment = pledge.commitments.order_by("position").last()
    Commitment.objects.filter(pk=commitment.pk).update(purpose="Ett annat syfte")
    Action.objects.filter(commitment=commitment, position=0).update(title="Ändrad åtgärd")
    services.pledge_content_saved(pledge=pledge, user=kommun_editor)

    response = approver.post(_adopt_url(pledge, kommun), fields)
    assert response.status_code == 409
    assert not Adoption.objects.filter(pledge=pledge).exists()
    html = response.content.decode()
    assert "Ingenting fastställdes" in html
    changes = re.findall(
        r"<li>([^<]*)</li>", html.split('class="content-changes"')[1].split("</ul>")[0]
    )
    assert any(f"Löfte 2 (”{commitment.title}”)" in line and "syfte" in line for line in changes), (
        changes
    )
    assert any("åtgärd 1 (”Ändrad åtgärd”)" in line and "åtgärd" in line for line in changes), (
        changes
    )
    # The page now shows the new content's fingerprint: adopting that works.
    fresh = _hidden(html)
    assert fresh["fingerprint"] == services.pledge_fingerprint(pledge.pk)
    assert approver.post(_adopt_url(pledge, kommun), fresh).status_code == 302
    assert Adoption.objects.get(pledge=pledge).fingerprint == fresh["fingerprint"]


def test_a_post_without_the_fingerprint_adopts_nothing(login, draft, kommun, kommun_approver):
    response = login(kommun_approver).post(_adopt_url(draft, kommun), {})
    assert response.status_code == 409
    assert "Ingenting fastställdes" in response.content.decode()
    assert not Adoption.objects.exists()


def test_a_tampered_content_snapshot_is_not_trusted(login, draft, kommun, kommun_approver):
    client = login(kommun_approver)
    fields = _hidden(client.get(_adopt_url(draft, kommun)).content.decode())
    Pledge.objects.filter(pk=draft.pk).update(background="Ny bakgrund")
    response = client.post(
        _adopt_url(draft, kommun), {"fingerprint": fields["fingerprint"], "content": "x:y:z"}
    )
    assert response.status_code == 409
    assert "sidan sade inte" in response.content.decode().lower()
    assert not Adoption.objects.exists()


def test_the_service_refuses_another_fingerprint(draft, kommun, kommun_approver):
    with pytest.raises(services.ContentChanged):
        services.pledge_adopt(
            pledge=draft, user=kommun_approver, organisation=kommun, fingerprint="0" * 64
        )
    assert not Adoption.objects.exists()


def test_content_changes_lists_added_and_removed_items_and_fields(make_pledge):
    from django.utils import translation

    from pledges.content_diff import content_changes

    pledge = make_pledge(commitments=1, actions=1, contacts=1)
    before = services.pledge_content(pledge.pk)
    Pledge.objects.filter(pk=pledge.pk).update(background="Ny", is_example=True)
    pledge.contacts.all().delete()
    Contact.objects.create(pledge=pledge, name="Ny kontakt", position=1)
    Contact.objects.create(pledge=pledge, name="Andra kontakten", position=2)
    with translation.override("sv"):
        lines = content_changes(before, services.pledge_content(pledge.pk))
    assert lines[0] == "Medborgarlöftet: ändrade ”bakgrund”, ”exempeltext”"
    assert lines[1].startswith("Kontakt 1 (”Ny kontakt”): ändrade ”namn”, ”roll”")
    assert "Kontakt 2 (”Andra kontakten”) har lagts till" in lines
