import pytest
from django.core.exceptions import ValidationError

from portal import scope
from tests.factories import MunicipalityFactory


def test_municipality_slug_cannot_take_a_site_path(db):
    municipality = MunicipalityFactory.build(slug="admin", code="0001")
    with pytest.raises(ValidationError) as excinfo:
        municipality.full_clean()
    assert "slug" in excinfo.value.message_dict


def test_municipality_code_must_be_four_digits(db):
    municipality = MunicipalityFactory.build(code="38")
    with pytest.raises(ValidationError) as excinfo:
        municipality.full_clean()
    assert "code" in excinfo.value.message_dict


def test_police_area_serves_several_municipalities(police, osthammar, tierp):
    assert set(police.municipalities.all()) == {osthammar, tierp}


def test_scope_limits_an_editor_to_their_municipalities(kommun_editor, osthammar, tierp):
    assert scope.municipality_ids(kommun_editor) == {osthammar.pk}
    assert list(scope.municipalities(kommun_editor)) == [osthammar]
    assert scope.can_edit(kommun_editor, osthammar.pk)
    assert not scope.can_edit(kommun_editor, tierp.pk)


def test_scope_gives_the_police_every_municipality_of_its_area(police_editor, osthammar, tierp):
    assert scope.municipality_ids(police_editor) == {osthammar.pk, tierp.pk}


def test_scope_gives_a_superuser_everything(site_admin, osthammar, tierp):
    assert scope.municipality_ids(site_admin) is None
    assert scope.can_edit(site_admin, tierp.pk)


def test_scope_gives_a_resident_nothing(db, osthammar):
    from django.contrib.auth.models import AnonymousUser

    assert not scope.is_official(AnonymousUser())
    assert scope.municipality_ids(AnonymousUser()) == frozenset()
    assert not scope.can_edit(AnonymousUser(), osthammar.pk)


def test_approver_roles_are_per_municipality(kommun_approver, police_approver, osthammar, tierp):
    assert [r.title for r in scope.approver_roles(kommun_approver, osthammar.pk)] == [
        "Kommunstyrelsens ordförande"
    ]
    assert scope.approver_roles(kommun_approver, tierp.pk) == []
    assert len(scope.approver_roles(police_approver, tierp.pk)) == 1


def test_scope_loads_memberships_in_one_query(kommun_editor, django_assert_num_queries):
    kommun_editor = type(kommun_editor).objects.get(pk=kommun_editor.pk)
    with django_assert_num_queries(1):
        scope.municipality_ids(kommun_editor)
        scope.is_official(kommun_editor)
        scope.approver_roles(kommun_editor)
