"""Hostile input on the portal's public form and URLs: never a 500, and
nothing stored from a rejected request."""

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.models import AccessibilityFeedback

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

nasty_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "'; DROP TABLE portal_municipality; --",
            "\x00\x01\x02",
            "\ud7ff\ue000",
            "x" * 6000,
            "%00",
            "{{ settings.SECRET_KEY }}",
            "Robert'); DELETE FROM auth_user; --",
        ]
    ),
)


@FUZZ
@given(
    data=st.dictionaries(
        st.sampled_from(["kind", "page", "message", "contact", "website", "x"]), nasty_text
    )
)
def test_feedback_form_never_fails_on_random_input(client, db, data):
    before = AccessibilityFeedback.objects.count()
    response = client.post(reverse("portal:accessibility"), data)
    # 429: the form's rate limit, which a long run of examples reaches.
    assert response.status_code in (302, 400, 429)
    if response.status_code != 302:
        assert AccessibilityFeedback.objects.count() == before


def test_feedback_is_stored_and_shown_escaped(client, db, django_user_model):
    from portal.models import Membership
    from tests.factories import MembershipFactory

    payload = "<script>alert('x')</script> Knappen syns inte"
    response = client.post(reverse("portal:accessibility"), {"kind": "problem", "message": payload})
    assert response.status_code == 302
    assert AccessibilityFeedback.objects.get().message == payload
    official = MembershipFactory(role=Membership.Role.EDITOR).user
    official.is_superuser = True  # feedback is the site administrators' to read
    official.save()
    client.force_login(official)
    html = client.get(reverse("admin:portal_accessibilityfeedback_changelist")).content.decode()
    assert "<script>alert('x')</script>" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe\x00garbage", b"message=%FF%FE&kind=problem", b"a=" + b"b" * 3_000_000],
)
def test_feedback_survives_broken_encodings_and_huge_bodies(client, db, body):
    response = client.generic(
        "POST",
        reverse("portal:accessibility"),
        body,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (400, 413)
    assert not AccessibilityFeedback.objects.exists()


def test_huge_multipart_upload_is_refused(client, db):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("big.bin", b"0" * 3_000_000)
    data = {"kind": "problem", "message": "Något är fel här", "file": upload}
    response = client.post(reverse("portal:accessibility"), data)
    assert response.status_code == 413
    assert "för stor" in response.content.decode()
    assert not AccessibilityFeedback.objects.exists()


PUBLIC_PATHS = [
    "/",
    "/om/",
    "/tillganglighet/",
    "/osthammar/",
    "/osthammar/medborgarlofte/",
    "/osthammar/medborgarlofte/2021/",
    "/osthammar/medborgarlofte/2021/uppfoljning/",
    "/osthammar/medborgarlofte/2021/uppfoljning/rapport/",
    "/osthammar/flode.atom",
    "/osthammar/enkat/finns-inte/",
    "/osthammar/enkat/finns-inte/resultat/",
]


@FUZZ
@given(
    query=st.dictionaries(st.text(max_size=20), nasty_text, max_size=4),
    path=st.sampled_from(PUBLIC_PATHS),
)
def test_public_pages_ignore_hostile_query_strings(client, osthammar, query, path):
    response = client.get(path, query)
    assert response.status_code in (200, 400, 404)


@FUZZ
@given(
    segment=st.text(min_size=1, max_size=80).filter(
        lambda s: "/" not in s and "?" not in s and "#" not in s
    )
)
def test_random_paths_are_404_not_500(client, db, segment):
    response = client.get("/" + segment + "/")
    assert response.status_code in (200, 301, 302, 400, 404)
