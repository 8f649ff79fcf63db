"""The content version: bumped once the change commits, per municipality or
for the site, and only by the audit log (and the demo loader)."""

import re
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from portal import content_version
from portal.audit import Action, log_event
from tests.factories import OrganisationFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def on_commit(monkeypatch):
    """The real wait for the commit (tests/conftest.py writes at once)."""
    monkeypatch.setattr(content_version, "on_commit", transaction.on_commit)


def test_a_new_version_waits_for_the_commit(
    osthammar, on_commit, django_capture_on_commit_callbacks
):
    """A page rendered before the commit (from the old data) must not be
    stored under the new version: the new number is written only after."""
    before = content_version.versions("osthammar")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            content_version.changed(osthammar)
        assert content_version.versions("osthammar") == before  # not committed yet
    assert len(callbacks) == 1
    after = content_version.versions("osthammar")
    assert after[1] != before[1]
    assert after[0] == before[0]  # the site-wide version is left alone


def test_a_rolled_back_change_keeps_the_version(
    osthammar, on_commit, django_capture_on_commit_callbacks
):
    before = content_version.versions("osthammar")
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        content_version.changed(osthammar)
        raise RuntimeError
    assert callbacks == []
    assert content_version.versions("osthammar") == before


def test_by_id_the_slugs_are_looked_up_in_one_query(osthammar, tierp):
    before = {slug: content_version.versions(slug) for slug in ("osthammar", "tierp")}
    with CaptureQueriesContext(connection) as queries:
        content_version.changed(osthammar.pk, tierp.pk)
    assert len(queries.captured_queries) == 1
    for slug in ("osthammar", "tierp"):
        assert content_version.versions(slug)[1] != before[slug][1]


def test_with_no_municipality_named_the_whole_site_changes(osthammar):
    before = content_version.versions("osthammar")
    content_version.changed()
    after = content_version.versions("osthammar")
    assert after[0] != before[0] and after[1] == before[1]


# --- the audit log is the one place that says it -----------------------------


def test_an_event_about_a_municipalitys_content_bumps_that_municipality(
    osthammar, tierp, kommun_editor
):
    before = {slug: content_version.versions(slug) for slug in ("osthammar", "tierp")}
    log_event(actor=kommun_editor, action="report_saved", municipality=osthammar)
    assert content_version.versions("osthammar")[1] != before["osthammar"][1]
    assert content_version.versions("tierp") == before["tierp"]


@pytest.mark.parametrize("about", ["municipality", "organisation", "nothing"])
def test_an_event_about_a_municipality_or_without_one_bumps_the_site(osthammar, site_admin, about):
    obj = {"municipality": osthammar, "organisation": OrganisationFactory(), "nothing": None}
    before = content_version.versions("osthammar")
    log_event(actor=site_admin, action=Action.ADMIN_CHANGE, obj=obj[about])
    assert content_version.versions("osthammar")[0] != before[0]


@pytest.mark.parametrize("action", [Action.LOGIN, Action.LOGIN_FAILED, Action.OTP_FAILED])
def test_account_events_leave_the_versions_alone(osthammar, kommun_editor, action):
    before = content_version.versions("osthammar")
    log_event(actor=kommun_editor, action=action)
    assert content_version.versions("osthammar") == before


def test_only_the_audit_log_and_the_demo_loader_say_this_changed():
    """No service, signal or admin class bumps a version on its own: every
    official change reaches the audit log, which does it."""
    callers = set()
    for app in ("portal", "surveys", "pledges", "followup"):
        for path in (ROOT / app).rglob("*.py"):
            if re.search(r"content_version\.changed\(", path.read_text(encoding="utf-8")):
                callers.add(str(path.relative_to(ROOT)))
    assert callers == {"portal/audit.py", "portal/management/commands/load_demo.py"}
    assert not (ROOT / "surveys" / "signals.py").exists()
