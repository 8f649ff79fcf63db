"""Walk every URL pattern of the project (public pages, the admin and its
per-model pages, the two-factor pages) as an anonymous visitor and as each
official role of another municipality (Tierp), with objects that belong to
Östhammar, and prove that nobody reads or changes what is outside their
scope.

The patterns come from `get_resolver()`; objects and parameter values come
from the registry in tests/portal/url_walk.py, filled by each app's
tests/<app>/url_walk_targets.py. A new URL or admin model that the registry
cannot fill makes `test_every_url_pattern_and_admin_model_can_be_walked`
fail.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from portal.models import Membership, Organisation
from tests.conftest import _member
from tests.portal import url_walk
from tests.portal.url_walk import WalkContext

pytestmark = pytest.mark.django_db

url_walk.load_app_registries()


@pytest.fixture
def other_kommun_approver(tierp_kommun):
    return _member(
        "other_kommun_approver",
        tierp_kommun,
        Membership.Role.APPROVER,
        "Kommunstyrelsens ordförande",
    )


@pytest.fixture
def walk(osthammar, tierp, kommun, police, partner, other_kommun_editor, other_kommun_approver):
    ctx = WalkContext(
        municipality=osthammar,
        organisations={"kommun": kommun, "police": police, "partner": partner},
        outsiders=[other_kommun_editor, other_kommun_approver],
    )
    for model in url_walk.TARGETS:
        ctx.get(model)
    urls, unfilled = url_walk.concrete_urls(ctx)
    return ctx, urls, unfilled


def admin_urls_for_walk(municipality) -> list[str]:
    """Every admin address filled with objects of `municipality` (used by
    the two-factor tests: an unverified session reaches none of them)."""
    organisations = {
        name: Organisation.objects.filter(kind=kind, municipalities=municipality).first()
        for name, kind in (
            ("kommun", Organisation.Kind.KOMMUN),
            ("police", Organisation.Kind.POLIS),
        )
    }
    ctx = WalkContext(municipality=municipality, organisations=organisations, outsiders=[])
    for model in url_walk.TARGETS:
        ctx.get(model)
    urls, _ = url_walk.concrete_urls(ctx)
    skip = {reverse("admin:login"), reverse("admin:logout")} | {
        reverse(name) for name in ["admin:2fa_verify", "admin:2fa_enrol", "admin:2fa_manage"]
    }
    return [path for path, _, _ in urls if path.startswith("/admin/") and path not in skip]


def forbidden_texts(ctx: WalkContext, *, for_officials: bool) -> list[str]:
    texts = []
    for item in ctx.targets.values():
        if for_officials and item.shared_with_officials:
            continue
        texts += item.secrets
    return texts


def assert_no_leak(response, path, texts):
    if response.status_code != 200:
        return
    body = response.content.decode(errors="replace")
    leaked = [text for text in texts if text and text in body]
    assert not leaked, f"{path} shows {leaked}"


def test_every_url_pattern_and_admin_model_can_be_walked(walk):
    _ctx, urls, unfilled = walk
    assert not unfilled, (
        "URL patterns the walk cannot fill; add a filler in tests/<app>/url_walk_targets.py:\n"
        + "\n".join(unfilled)
    )
    missing = url_walk.unregistered_admin_models()
    assert not missing, (
        "Admin models without a url-walk target; add one in tests/<app>/url_walk_targets.py: "
        + ", ".join(missing)
    )
    walked = {pattern.description for _, pattern, _ in urls}
    assert len(walked) == len(url_walk.all_patterns())
    # The admin's per-model pages are among them, for every registered model.
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        assert any(p.startswith("/admin/{}/{}/".format(*info)) for p, _, _ in urls), info


def test_every_request_goes_through_the_one_middleware_chain_in_settings():
    """gunicorn serves Django's own handler: one chain, settings.MIDDLEWARE,
    for every address (the survey form included)."""
    from django.core.handlers.wsgi import WSGIHandler

    from portal import wsgi

    assert type(wsgi.application) is WSGIHandler


def test_an_anonymous_visitor_gets_only_public_pages(client, walk):
    ctx, urls, _ = walk
    texts = forbidden_texts(ctx, for_officials=False)
    login_url = reverse("admin:login")
    for path, pattern, _model in urls:
        response = client.get(path)
        assert response.status_code != 500, path
        assert_no_leak(response, path, texts)
        if path.startswith("/admin/") and path != login_url:
            assert response.status_code in (302, 403, 404, 405), (path, response.status_code)
            if response.status_code == 302 and pattern.name != "admin:view_on_site":
                # To the login page (or, from logout, the index, which leads there).
                location = response["Location"]
                assert location.startswith(login_url) or location == reverse("admin:index"), (
                    path,
                    location,
                )


@pytest.mark.parametrize("role", ["other_kommun_editor", "other_kommun_approver"])
def test_an_official_of_another_municipality_reads_nothing_of_osthammar(
    client, walk, role, request
):
    ctx, urls, _ = walk
    client.force_login(request.getfixturevalue(role))
    texts = forbidden_texts(ctx, for_officials=True)
    for path, pattern, model in urls:
        if pattern.name == "admin:logout":
            continue
        response = client.get(path)
        assert response.status_code != 500, path
        assert_no_leak(response, path, texts)
        if model is not None and url_walk.parameters(pattern):
            # An address built from an Östhammar object.
            assert response.status_code in (200, 302, 403, 404, 405), path
            assert_no_leak(response, path, ctx.targets[model].identity)


TWO_FACTOR_PAGES = {"admin:2fa_verify", "admin:2fa_enrol", "admin:2fa_manage", "admin:login"}


@pytest.fixture
def password_only(request, settings, kommun_editor, django_user_model):
    """An Östhammar official, or a superuser, signed in with the password
    only where two-factor login is required (force_login gives no device)."""

    def sign_in(client, role):
        settings.PORTAL_REQUIRE_2FA = True
        if role == "superuser":
            user = django_user_model.objects.create_superuser("walk-admin", "w@example.se", "x")
        else:
            user = kommun_editor
        client.force_login(user)
        return client

    return sign_in


@pytest.mark.parametrize("role", ["osthammar_editor", "superuser"])
def test_signed_in_with_the_password_only_sees_nothing_more_than_an_anonymous_visitor(
    client, walk, role, password_only
):
    from django.test import Client

    ctx, urls, _ = walk
    anonymous = Client()
    password_only(client, role)
    texts = forbidden_texts(ctx, for_officials=False)
    for path, pattern, _model in urls:
        if pattern.name == "admin:logout":
            continue
        response = client.get(path)
        assert response.status_code != 500, path
        assert_no_leak(response, path, texts)
        if pattern.name in TWO_FACTOR_PAGES:
            continue  # where the password-only session gives its second factor
        if response.status_code == 200:
            assert anonymous.get(path).status_code == 200, (path, "only with a password")
        if path.startswith("/admin/"):
            assert response.status_code in (302, 403, 404, 405), (path, response.status_code)
            assert 'id="changelist"' not in response.content.decode(), path


def snapshot(ctx: WalkContext, *, for_officials: bool) -> dict:
    return {
        model._meta.label: list(model._default_manager.filter(pk=item.obj.pk).values())
        for model, item in ctx.targets.items()
        # Officials may change what they share (they mark feedback handled).
        if not (for_officials and item.shared_with_officials)
    }


HOSTILE_POST = {
    "post": "yes",
    "name": "Hackad",
    "short_name": "Hackad",
    "slug": "hackad",
    "code": "9999",
    "username": "hackad",
    "email": "hackad@example.se",
    "title": "Hackad",
    "message": "Hackad",
    "handled": "on",
    "password1": "Hackat-losenord-123",
    "password2": "Hackat-losenord-123",
    "confirmed": "on",
    "action": "remove",
}


@pytest.mark.parametrize("role", ["anonymous", "other_kommun_editor", "other_kommun_approver"])
def test_nobody_outside_changes_or_deletes_osthammar_data(client, walk, role, request):
    ctx, urls, _ = walk
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    officials = role != "anonymous"
    before = snapshot(ctx, for_officials=officials)
    for path, pattern, model in urls:
        if pattern.name == "admin:logout":
            continue
        if model is not None and url_walk.parameters(pattern):
            response = client.post(path, HOSTILE_POST)
            allowed = {302, 403, 404, 405}
            if role != "anonymous" and ctx.targets[model].shared_with_officials:
                allowed.add(200)  # e.g. the feedback's history page
            assert response.status_code in allowed, (path, response.status_code)
    for model, item in ctx.targets.items():
        if not admin.site.is_registered(model):
            continue
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.post(
            changelist,
            {"action": "delete_selected", "_selected_action": [item.obj.pk], "post": "yes"},
        )
        assert response.status_code in (200, 302, 403), changelist
    assert snapshot(ctx, for_officials=officials) == before


def test_the_walk_refuses_an_admin_model_without_a_target(walk, monkeypatch):
    from django.contrib.auth.models import Group

    ctx, _, _ = walk
    monkeypatch.delitem(url_walk.TARGETS, Group)
    ctx.targets.pop(Group)
    assert url_walk.unregistered_admin_models() == ["auth.Group"]
    _, unfilled = url_walk.concrete_urls(ctx)
    assert any("auth.Group" in line for line in unfilled)


def test_the_walk_refuses_a_url_parameter_it_cannot_fill(walk, settings):
    from django.urls import clear_url_caches

    ctx, _, _ = walk
    settings.ROOT_URLCONF = "tests.portal.walk_extra_urls"
    clear_url_caches()
    try:
        _, unfilled = url_walk.concrete_urls(ctx)
    finally:
        clear_url_caches()
    assert unfilled == ["okand/<int:hemlig_id>/: parameter 'hemlig_id'"]
