"""The form's one-time token: Django's TimestampSigner with the token's
salt (the format of `signing.dumps` and `signing.loads`), so that forms
rendered before a deployment still send, and every forged, tampered or
expired token is refused as Django would refuse it."""

import time

import pytest
from django.core import signing
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys import security

SALT = security.TOKEN_SALT
PAYLOAD = {"s": 7, "n": "0123456789abcdef0123456789abcdef", "d": "2026-11-26"}


def _django(value: str, max_age: float):
    try:
        return "ok", signing.loads(value, salt=SALT, max_age=max_age)
    except Exception as exc:  # the outcome is compared, whatever it is
        return type(exc), None


def _ours(value: str, max_age: float):
    try:
        return "ok", security._signer().unsign_object(value, max_age=max_age)
    except Exception as exc:
        return type(exc), None


def test_each_reads_what_the_other_wrote():
    django_token = signing.dumps(PAYLOAD, salt=SALT, compress=True)
    assert security._signer().unsign_object(django_token, max_age=60) == PAYLOAD
    ours = security._signer().sign_object(PAYLOAD, compress=True)
    assert signing.loads(ours, salt=SALT, max_age=60) == PAYLOAD
    # Same key, salt, payload and second: the same token.
    assert ours.rsplit(":", 2)[0] == django_token.rsplit(":", 2)[0]


def _variants(token: str):
    """The token and what a forger or a broken client makes of it."""
    payload, stamp, sig = token.split(":")
    yield token
    yield token[:-1] + ("A" if token[-1] != "A" else "B")  # signature changed
    yield f"{payload}x:{stamp}:{sig}"  # payload changed
    yield f"{payload}:{stamp}"  # no signature
    yield f"{payload}:{stamp}:{sig}:{sig}"
    yield f"{payload}::{sig}"
    yield payload
    yield ""
    yield ":"
    yield token.replace(":", "")
    yield signing.dumps(PAYLOAD, salt="another salt")
    yield signing.dumps(PAYLOAD, salt=SALT, key="another key")
    yield signing.dumps(PAYLOAD, salt=SALT, compress=False)
    yield signing.dumps("not a dict", salt=SALT)
    yield signing.Signer(salt=SALT).sign("no timestamp")


@pytest.mark.parametrize("max_age", [60, 0.0, -1])
def test_every_variant_ends_as_with_django(max_age):
    token = signing.dumps(PAYLOAD, salt=SALT, compress=True)
    for value in _variants(token):
        assert _ours(value, max_age) == _django(value, max_age), value


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:.=åä",
        max_size=120,
    ),
    st.integers(min_value=0, max_value=200),
)
def test_any_text_ends_as_with_django(text, cut):
    token = signing.dumps(PAYLOAD, salt=SALT, compress=True)
    for value in (text, token[:cut] + text, text + token[cut:]):
        assert _ours(value, 60) == _django(value, 60), value


def test_an_old_token_expires_as_with_django(monkeypatch):
    token = signing.dumps(PAYLOAD, salt=SALT, compress=True)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3600)
    assert _ours(token, 60) == _django(token, 60) == (signing.SignatureExpired, None)
    assert _ours(token, 7200)[0] == "ok"


def test_a_rotated_secret_key_is_honoured_through_its_fallbacks():
    with override_settings(SECRET_KEY="old-" + "k" * 50):
        token = security._signer().sign_object(PAYLOAD, compress=True)
    with override_settings(SECRET_KEY="new-" + "k" * 50, SECRET_KEY_FALLBACKS=["old-" + "k" * 50]):
        assert _ours(token, 60) == _django(token, 60) == ("ok", PAYLOAD)
    with override_settings(SECRET_KEY="new-" + "k" * 50, SECRET_KEY_FALLBACKS=[]):
        assert _ours(token, 60) == _django(token, 60) == (signing.BadSignature, None)
