"""Retention (gallring): per municipality, invitation codes, submission
nonces and free text of closed surveys are removed, results stay exactly
the same, and a second run removes nothing. A fixed clock (`now=`) is
passed to the service throughout."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.audit import AuditEvent
from portal.models import District
from surveys import exports, results, retention, services
from surveys.generate import generate_responses
from surveys.models import Answer, Invitation, Question, SubmissionNonce
from tests.factories import MunicipalityFactory
from tests.surveys.factories import SurveyFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DECISION = "KS 2025-03-01 § 45"


def make_survey(municipality, slug, *, closed_days_ago, responses=40, seed=1, codes=3):
    """A template survey that closed `closed_days_ago` days before NOW
    (negative: still open), with generated answers (choices, "Annat"
    texts, places, free text), invitation codes and submission nonces."""
    closes = NOW - timedelta(days=closed_days_ago)
    survey = SurveyFactory(
        municipality=municipality,
        slug=slug,
        title=f"Enkät {slug}",
        opens_at=closes - timedelta(days=30),
        closes_at=closes,
    )
    services.survey_apply_template(survey=survey)
    generate_responses(survey, responses, seed=seed)
    services.invitations_generate(survey=survey, count=codes)
    SubmissionNonce.objects.bulk_create(
        [SubmissionNonce(survey=survey, digest=f"{slug}-{i:04d}") for i in range(codes)]
    )
    return survey


def free_text_count(survey) -> int:
    return Answer.objects.filter(question__survey=survey, question__kind=Question.Kind.TEXT).count()


def other_text_count(survey) -> int:
    return (
        Answer.objects.filter(question__survey=survey, text__isnull=False)
        .exclude(question__kind=Question.Kind.TEXT)
        .count()
    )


def stored(survey) -> dict:
    return {
        "codes": Invitation.objects.filter(survey=survey).count(),
        "nonces": SubmissionNonce.objects.filter(survey=survey).count(),
        "free_texts": free_text_count(survey),
        "other_texts": other_text_count(survey),
        "answers": Answer.objects.filter(question__survey=survey).count(),
    }


def everything_computed(survey, earlier=None) -> dict:
    """Every number the results pages, the follow-up and the exports show."""
    questions = results.questions_of(survey)
    by_key = {q.key: q for q in questions}
    ntu = by_key[results.NTU_QUESTION]
    data = {
        "n": results.response_count(survey),
        "daily": results.daily_counts(survey),
        "overall": results.overall(survey, questions=questions),
        "overall_public": results.overall(survey, public=True, questions=questions),
        "ntu": results.ntu_headline(survey),
        "breakdowns": [
            results.breakdown(survey, ntu, by_key[key]) for key in ("omrade", "alder", "kon")
        ],
        "share_by": results.share_by(
            survey, results.NTU_QUESTION, results.NTU_UNSAFE, "kon", exclude_keys=("vet_ej",)
        ),
    }
    if earlier is not None:
        data["compare"] = results.compare(survey, earlier, questions=questions)
    rows = list(exports.rows(survey))
    header = rows[0]
    text_columns = {
        i
        for i, name in enumerate(header)
        if name.endswith(".text")
        or any(q.key == name and q.kind == Question.Kind.TEXT for q in questions)
    }
    data["export_without_text"] = [
        [v for i, v in enumerate(row) if i not in text_columns] for row in rows
    ]
    return data


@pytest.fixture
def rules(osthammar, tierp):
    osthammar.invitation_retention_days = 30
    osthammar.free_text_retention_days = 60
    osthammar.retention_decision = DECISION
    osthammar.save()
    tierp.invitation_retention_days = 90
    tierp.free_text_retention_days = 365
    tierp.retention_decision = "KS 2024-11-12 § 201"
    tierp.save()
    for i, name in enumerate(["Östhammar", "Gimo", "Alunda"]):
        District.objects.create(municipality=osthammar, name=name, position=i, population=100)
    return osthammar, tierp


def test_it_removes_codes_and_free_text_and_keeps_every_result(rules):
    osthammar, _tierp = rules
    earlier = make_survey(osthammar, "hosten-2024", closed_days_ago=400, seed=3)
    old = make_survey(osthammar, "hosten-2025", closed_days_ago=100, responses=120, seed=7)
    before = stored(old)
    assert before["free_texts"] > 0 and before["other_texts"] > 0 and before["codes"] == 3
    assert Answer.objects.filter(question__survey=old, choice__allows_text=True).exists()
    computed = everything_computed(old, earlier)
    assert results.free_texts(old)

    found = {r.survey: r for r in retention.retention_apply(now=NOW)}

    result = found[old]
    assert (result.invitations, result.nonces) == (3, 3)
    assert result.free_texts_deleted == before["free_texts"]
    assert result.texts_blanked == before["other_texts"]
    after = stored(old)
    assert after["codes"] == after["nonces"] == after["free_texts"] == after["other_texts"] == 0
    # Choices (also "Annat, nämligen") and places keep their rows; only the
    # rows of free-text questions are gone.
    assert after["answers"] == before["answers"] - before["free_texts"]
    assert Answer.objects.filter(question__survey=old, choice__allows_text=True).exists()
    assert Answer.objects.filter(question__survey=old, district__isnull=False).exists()
    assert results.free_texts(old) == []
    assert everything_computed(old, earlier) == computed


def test_a_second_run_removes_nothing(rules):
    osthammar, _ = rules
    old = make_survey(osthammar, "hosten-2025", closed_days_ago=100)
    assert retention.retention_apply(now=NOW)
    snapshot = stored(old)
    events = AuditEvent.objects.count()
    assert retention.retention_apply(now=NOW) == []
    assert stored(old) == snapshot
    assert AuditEvent.objects.count() == events
    out = io.StringIO()
    call_command("apply_retention", stdout=out)
    assert "Inget att gallra." in out.getvalue()


def test_open_and_recently_closed_surveys_are_untouched(rules):
    osthammar, _ = rules
    open_now = make_survey(osthammar, "oppen", closed_days_ago=-10, seed=2)
    recent = make_survey(osthammar, "nyss-stangd", closed_days_ago=10, seed=4)
    before = {s.pk: stored(s) for s in (open_now, recent)}
    assert retention.retention_apply(now=NOW) == []
    assert {s.pk: stored(s) for s in (open_now, recent)} == before


def test_each_municipality_keeps_its_own_rules(rules):
    osthammar, tierp = rules
    # 45 days: Östhammar's codes (30 days) are due, its free text (60) not yet.
    codes_only = make_survey(osthammar, "codes-only", closed_days_ago=45, seed=5)
    both = make_survey(osthammar, "both", closed_days_ago=100, seed=6)
    # 100 days in Tierp: codes (90 days) due, free text (365) kept.
    tierp_survey = make_survey(tierp, "tierp-2025", closed_days_ago=100, seed=8)
    # No retention decision: free text is kept however old the survey.
    other = MunicipalityFactory(invitation_retention_days=10)
    undecided = make_survey(other, "utan-beslut", closed_days_ago=2000, seed=9)
    before = {s.pk: stored(s) for s in (codes_only, both, tierp_survey, undecided)}

    done = {r.survey.pk: r for r in retention.retention_apply(now=NOW)}

    assert set(done) == {codes_only.pk, both.pk, tierp_survey.pk, undecided.pk}
    for survey in (codes_only, tierp_survey, undecided):
        after = stored(survey)
        assert after["codes"] == after["nonces"] == 0
        assert after["free_texts"] == before[survey.pk]["free_texts"] > 0
        assert after["other_texts"] == before[survey.pk]["other_texts"] > 0
        assert done[survey.pk].free_texts_deleted == done[survey.pk].texts_blanked == 0
    assert stored(both)["free_texts"] == stored(both)["other_texts"] == 0
    # 300 days later the free text of both is due; the undecided one stays.
    later = retention.retention_apply(now=NOW + timedelta(days=300))
    assert {r.survey for r in later} == {codes_only, tierp_survey}
    assert stored(tierp_survey)["free_texts"] == stored(codes_only)["free_texts"] == 0
    assert stored(undecided)["free_texts"] == before[undecided.pk]["free_texts"]


def test_a_dry_run_changes_nothing_and_reports_what_would_go(rules):
    osthammar, _ = rules
    old = make_survey(osthammar, "hosten-2025", closed_days_ago=100)
    before = stored(old)
    events = AuditEvent.objects.count()
    planned = retention.retention_apply(now=NOW, dry_run=True)
    assert stored(old) == before
    assert AuditEvent.objects.count() == events
    done = retention.retention_apply(now=NOW)
    assert [r.as_details() for r in planned] == [r.as_details() for r in done]


def test_it_records_an_audit_event_with_the_counts(rules):
    osthammar, _ = rules
    old = make_survey(osthammar, "hosten-2025", closed_days_ago=100)
    [result] = retention.retention_apply(now=NOW)
    event = AuditEvent.objects.get(action="retention")
    assert event.actor is None and event.actor_username == ""
    assert event.municipality == osthammar
    assert (event.object_type, event.object_id) == ("surveys.survey", str(old.pk))
    assert event.details == {**result.as_details(), "retention_decision": DECISION}
    assert event.action_label == "gallring (radering av enkätdata)"


def test_it_runs_a_fixed_number_of_queries_whatever_the_number_of_answers(rules):
    osthammar, tierp = rules
    small = make_survey(osthammar, "liten", closed_days_ago=100, responses=5, seed=1)
    large = make_survey(tierp, "stor", closed_days_ago=400, responses=150, seed=2)
    with CaptureQueriesContext(connection) as one:
        retention.survey_apply_retention(survey=small, now=NOW)
    with CaptureQueriesContext(connection) as other:
        retention.survey_apply_retention(survey=large, now=NOW)
    assert len(one.captured_queries) == len(other.captured_queries) <= 12
    # Finding what is due: two queries, however many municipalities.
    MunicipalityFactory.create_batch(5)
    with CaptureQueriesContext(connection) as due:
        assert retention.retention_apply(now=NOW) == []
    assert len(due.captured_queries) == 2


def test_the_command_prints_a_swedish_summary_and_is_safe_twice(rules):
    osthammar, _ = rules
    old = make_survey(osthammar, "hosten-2025", closed_days_ago=100)
    # The command runs on the real clock: move the survey relative to it.
    old.closes_at = timezone.now() - timedelta(days=100)
    old.save()
    codes, texts = stored(old)["codes"], stored(old)["free_texts"]
    out = io.StringIO()
    call_command("apply_retention", "--dry-run", stdout=out)
    assert "Provkörning (--dry-run): ingenting ändras." in out.getvalue()
    assert stored(old)["codes"] == codes
    out = io.StringIO()
    call_command("apply_retention", stdout=out)
    text = out.getvalue()
    assert "Östhammars kommun (inbjudningskoder sparas 30 dagar efter stängning; " in text
    assert f"fritext sparas 60 dagar enligt gallringsbeslut {DECISION}), gallrade:" in text
    assert f"Enkät hosten-2025 (stängd {timezone.localdate(old.closes_at)}): " in text
    assert f"{codes} inbjudningskoder, {codes} engångsnycklar, {texts} fritextsvar" in text
    assert "Totalt gallrade:" in text
    out = io.StringIO()
    call_command("apply_retention", stdout=out)
    assert out.getvalue().strip() == "Inget att gallra."


def test_the_municipality_command_option_limits_the_run(rules):
    osthammar, _ = rules
    old = make_survey(osthammar, "hosten-2025", closed_days_ago=100)
    old.closes_at = timezone.now() - timedelta(days=100)
    old.save()
    out = io.StringIO()
    call_command("apply_retention", "--municipality", "tierp", stdout=out)
    assert out.getvalue().strip() == "Inget att gallra."
    assert stored(old)["codes"] == 3
    call_command("apply_retention", "--municipality", "osthammar", stdout=out)
    assert stored(old)["codes"] == 0
    with pytest.raises(CommandError, match="Ingen kommun har adressen ”finns-inte”"):
        call_command("apply_retention", "--municipality", "finns-inte", stdout=out)


# --- the settings on the municipality -----------------------------------------


def test_the_invitation_default_comes_from_settings(settings, db):
    settings.SURVEY_INVITATION_RETENTION_DAYS = 14
    assert MunicipalityFactory().invitation_retention_days == 14


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("invitation_retention_days", 0, "minst 1 dag"),
        ("invitation_retention_days", 366, "högst 365 dagar"),
        ("free_text_retention_days", 29, "minst 30 dagar"),
        ("free_text_retention_days", 3651, "Högst 3650 dagar"),
    ],
)
def test_bounds_are_checked_with_a_swedish_message(osthammar, field, value, message):
    osthammar.retention_decision = DECISION
    setattr(osthammar, field, value)
    with pytest.raises(ValidationError) as info:
        osthammar.full_clean()
    assert message in " ".join(info.value.message_dict[field])


def test_deleting_free_text_needs_a_retention_decision(osthammar):
    osthammar.free_text_retention_days = 365
    with pytest.raises(ValidationError) as info:
        osthammar.full_clean()
    assert "gallringsbeslut" in " ".join(info.value.message_dict["retention_decision"])
    with pytest.raises(IntegrityError), transaction.atomic():
        osthammar.save()


def test_a_site_admin_sets_the_rules_in_the_admin_with_history(login, site_admin, osthammar):
    client = login(site_admin)
    url = reverse("admin:portal_municipality_change", args=[osthammar.pk])
    page = client.get(url).content.decode()
    assert "Gallring av enkätdata" in page
    data = {
        "name": osthammar.name,
        "short_name": osthammar.short_name,
        "slug": osthammar.slug,
        "code": osthammar.code,
        "population": "",
        "invitation_retention_days": "30",
        "free_text_retention_days": "365",
        "retention_decision": "",
        "districts-TOTAL_FORMS": "0",
        "districts-INITIAL_FORMS": "0",
        "districts-MIN_NUM_FORMS": "0",
        "districts-MAX_NUM_FORMS": "1000",
    }
    refused = client.post(url, data)
    assert refused.status_code == 200
    assert "gallringsbeslut" in refused.content.decode()
    osthammar.refresh_from_db()
    assert osthammar.free_text_retention_days is None
    response = client.post(url, {**data, "retention_decision": DECISION})
    assert response.status_code == 302
    osthammar.refresh_from_db()
    assert (osthammar.free_text_retention_days, osthammar.retention_decision) == (365, DECISION)
    assert osthammar.history.first().retention_decision == DECISION


def test_the_results_page_says_the_free_text_was_removed(rules, login, kommun_editor):
    osthammar, _ = rules
    old = make_survey(osthammar, "hosten-2025", closed_days_ago=100)
    client = login(kommun_editor)
    url = reverse("admin:surveys_survey_results", args=[old.pk])
    assert "gallringsbeslut" not in client.get(url).content.decode()
    retention.retention_apply(now=NOW)
    page = client.get(url).content.decode()
    assert f"Fritextsvaren raderades {timezone.localdate():%Y-%m-%d} enligt gallringsbeslut" in page
    assert DECISION in page
    assert "Inga fritextsvar." in page
