"""Nothing in the database pairs a response with the invitation code that
admitted it, or orders responses by submission (surveys/anonymity.py): not
xmin, not ctid, not the ids, not the export; and every code still admits
exactly one response, also with many clients and a batch running at once,
and a failing batch changes nothing."""

import threading
import uuid

import pytest
from django.core.management import call_command
from django.db import connection, connections, models

from surveys import anonymity, exports, security, services
from surveys.models import (
    Answer,
    Invitation,
    PendingResponse,
    Response,
    SubmissionNonce,
    Survey,
)


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("xmin, ctid and concurrent transactions are PostgreSQL's")


def _invitation(survey) -> None:
    Survey.objects.filter(pk=survey.pk).update(mode=Survey.Mode.INVITATION)
    survey.refresh_from_db()


def _answers(survey, text=None) -> list[services.AnswerData]:
    out = [
        services.AnswerData(q.pk, choice_id=q.choices.all()[0].pk)
        for q in survey.questions.filter(kind="single").prefetch_related("choices")[:10]
    ]
    if text is not None:
        out.append(services.AnswerData(survey.questions.filter(kind="text")[0].pk, text=text))
    return out


def _submit(survey, code="", answers=None) -> bool:
    return services.response_submit(
        survey=survey,
        token=security.Token(survey.pk, uuid.uuid4().hex * 2),
        submission=services.Submission(
            language="sv", answers=answers or _answers(survey), code=code
        ),
    )


def _rows(sql, params=()) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


XMIN_JOIN = "SELECT r.id, i.id FROM surveys_response r JOIN surveys_invitation i ON i.xmin = r.xmin"


def _spearman(order: list[int]) -> float:
    """Rank correlation between positions 0..n-1 and `order` (a permutation
    of the submission numbers 0..n-1)."""
    n = len(order)
    d2 = sum((position - number) ** 2 for position, number in enumerate(order))
    return 1 - 6 * d2 / (n * (n * n - 1))


# For a random order of 200, rho has a standard deviation of 1/sqrt(199),
# about 0.071: |rho| >= 0.4 is 5.6 of them, a chance below 1e-7 for each of
# the checks below. In submission order rho is 1.
RHO_BOUND = 0.4
N = 200


@pytest.mark.django_db(transaction=True)
def test_after_the_batch_no_response_shares_a_transaction_id_with_a_code(postgresql, survey):
    _invitation(survey)
    codes = services.invitations_generate(survey=survey, count=5)
    for code in codes[:3]:
        assert _submit(survey, code)
    # What the issue reproduced: the code is marked used in the response's transaction.
    assert len(_rows(XMIN_JOIN)) == 3
    assert PendingResponse.objects.count() == 3

    result = anonymity.responses_shuffle()

    assert (result.pending, result.responses, result.codes) == (3, 3, 3)
    assert result.answers == 30
    assert _rows(XMIN_JOIN) == []
    assert (
        _rows("SELECT a.id FROM surveys_answer a JOIN surveys_invitation i ON i.xmin = a.xmin")
        == []
    )
    assert PendingResponse.objects.count() == 0
    assert Invitation.objects.filter(used=True).count() == 3
    assert Response.objects.count() == 3 and Answer.objects.count() == 30
    # Nothing left to do: a second run rewrites nothing and changes nothing.
    before = _rows("SELECT id, xmin::text, ctid::text FROM surveys_response ORDER BY id")
    assert anonymity.responses_shuffle().pending == 0
    assert _rows("SELECT id, xmin::text, ctid::text FROM surveys_response ORDER BY id") == before


@pytest.mark.django_db(transaction=True)
def test_no_old_row_version_keeps_the_submissions_transaction_id(postgresql, survey):
    """VACUUM after the batch: the versions of the rows as the submission
    wrote them are gone from the table's pages, not just invisible."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
    _invitation(survey)
    code = services.invitations_generate(survey=survey, count=2)[0]
    assert _submit(survey, code)
    [(xid,)] = _rows("SELECT xmin::text FROM surveys_response")

    anonymity.responses_shuffle()

    for table in ("surveys_response", "surveys_answer", "surveys_invitation"):
        pages = _rows("SELECT pg_relation_size(%s) / current_setting('block_size')::int", [table])
        xmins = {
            str(row[0])
            for page in range(pages[0][0])
            for row in _rows(
                "SELECT t_xmin FROM heap_page_items(get_raw_page(%s, %s)) WHERE t_xmin IS NOT NULL",
                [table, page],
            )
        }
        assert xid not in xmins, table


@pytest.mark.django_db(transaction=True)
def test_200_submissions_with_codes_leave_no_order_behind(postgresql, survey):
    _invitation(survey)
    codes = services.invitations_generate(survey=survey, count=N + 10)
    number_of_code = {security.code_hash(code): i for i, code in enumerate(codes[:N])}
    for i, code in enumerate(codes[:N]):
        assert _submit(survey, code, _answers(survey, text=f"svar {i}"))
    number_of_response = {
        response_id: i
        for i, (response_id,) in enumerate(_rows("SELECT id FROM surveys_response ORDER BY ctid"))
    }
    # Before the batch the table is in submission order; the ids never are.
    assert _spearman(list(number_of_response.values())) == 1
    by_id = [
        number_of_response[pk]
        for pk in Response.objects.order_by("id").values_list("id", flat=True)
    ]
    assert abs(_spearman(by_id)) < RHO_BOUND

    anonymity.responses_shuffle()

    used_by_ctid = [
        number_of_code[h]
        for (h,) in _rows("SELECT code_hash FROM surveys_invitation WHERE used ORDER BY ctid")
    ]
    responses_by_ctid = [
        number_of_response[pk] for (pk,) in _rows("SELECT id FROM surveys_response ORDER BY ctid")
    ]
    responses_by_id = [
        number_of_response[pk]
        for pk in Response.objects.order_by("id").values_list("id", flat=True)
    ]
    answers_by_ctid = list(
        dict.fromkeys(
            number_of_response[pk]
            for (pk,) in _rows("SELECT response_id FROM surveys_answer ORDER BY ctid")
        )
    )
    lines = list(exports.rows(survey))
    text_column = lines[0].index(survey.questions.filter(kind="text")[0].key)
    export_order = [int(line[text_column].removeprefix("svar ")) for line in lines[1:]]
    for name, order in {
        "used codes by ctid": used_by_ctid,
        "responses by ctid": responses_by_ctid,
        "responses by id": responses_by_id,
        "answers by ctid": answers_by_ctid,
        "export": export_order,
    }.items():
        assert sorted(order) == list(range(N)), name
        assert abs(_spearman(order)) < RHO_BOUND, name
    # And no response shares its xmin with any code, used or not.
    assert _rows(XMIN_JOIN) == []
    assert len({x for (x,) in _rows("SELECT xmin::text FROM surveys_invitation WHERE used")}) == 1


def _in_threads(count, func) -> list:
    """Run func(i) in `count` threads, each with its own connection,
    released at the same instant."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i):
        try:
            barrier.wait()
            results[i] = func(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.mark.django_db(transaction=True)
def test_a_code_sent_by_20_clients_at_once_admits_one_response(postgresql, survey):
    _invitation(survey)
    code = services.invitations_generate(survey=survey, count=1)[0]
    answers = _answers(survey)

    results = _in_threads(20, lambda _i: _submit(survey, code, answers))

    refused = [r for r in results if isinstance(r, services.SubmissionRefused)]
    assert results.count(True) == 1
    assert len(refused) == 19 and {r.reason for r in refused} == {"code"}
    assert Response.objects.count() == 1 and Answer.objects.count() == 10


@pytest.mark.django_db(transaction=True)
def test_a_batch_running_with_submissions_loses_none_and_admits_each_code_once(postgresql, survey):
    _invitation(survey)
    codes = services.invitations_generate(survey=survey, count=30)
    answers = _answers(survey)
    # Some codes already used and waiting for the batch, so that it has used
    # codes to rewrite while the others are being sent.
    for code in codes[:10]:
        assert _submit(survey, code, answers)
    finished: list[int] = []

    def work(i):
        if i == 0:
            runs = 0
            while len(finished) < 8 or runs < 3:
                anonymity.responses_shuffle()
                runs += 1
            return runs
        try:
            # Each thread sends five codes; most codes are sent by two threads,
            # and some of them were already used.
            return [_submit_or_refused(survey, codes[(i * 7 + k) % 30], answers) for k in range(5)]
        finally:
            finished.append(i)

    results = _in_threads(9, work)

    assert all(not isinstance(r, Exception) for r in results), results
    assert results[0] >= 3
    saved = sum(r.count(True) for r in results[1:])
    anonymity.responses_shuffle()
    assert Invitation.objects.filter(used=True).count() == 10 + saved
    assert Response.objects.count() == 10 + saved
    assert Answer.objects.count() == (10 + saved) * len(answers)
    assert Answer.objects.values("response").distinct().count() == 10 + saved
    sent = {codes[(i * 7 + k) % 30] for i in range(1, 9) for k in range(5)}
    assert saved == len(sent - set(codes[:10]))
    assert all(r in (True, "code") for results_of_one in results[1:] for r in results_of_one)
    assert PendingResponse.objects.count() == 0
    assert _rows(XMIN_JOIN) == []


def _submit_or_refused(survey, code, answers):
    try:
        return _submit(survey, code, answers)
    except services.SubmissionRefused as exc:
        return exc.reason


@pytest.mark.django_db(transaction=True)
def test_a_failing_batch_changes_nothing_and_the_next_one_finishes(postgresql, survey, monkeypatch):
    _invitation(survey)
    codes = services.invitations_generate(survey=survey, count=4)
    for code in codes[:3]:
        assert _submit(survey, code)

    def state():
        return (
            _rows(
                "SELECT id, survey_id, date, language, channel FROM surveys_response ORDER BY id"
            ),
            _rows(
                "SELECT id, response_id, question_id, choice_id, text FROM surveys_answer ORDER BY id"
            ),
            _rows("SELECT id, code_hash, used FROM surveys_invitation ORDER BY id"),
            _rows("SELECT response_id FROM surveys_pendingresponse ORDER BY 1"),
            _rows("SELECT xmin::text, ctid::text FROM surveys_response ORDER BY id"),
        )

    before = state()
    real_move = anonymity._move

    def failing_move(cursor, postgresql, source, target, cols, where):
        real_move(cursor, postgresql, source, target, cols, where)
        if source == "surveys_response":
            raise RuntimeError("the batch fails after deleting the responses")

    monkeypatch.setattr(anonymity, "_move", failing_move)
    with pytest.raises(RuntimeError):
        anonymity.responses_shuffle()
    after = state()
    # The codes' transaction had committed (the same codes, used, rewritten);
    # everything of the responses is as it was, and they are still pending.
    assert after[0:2] == before[0:2] and after[3:] == before[3:]
    assert sorted(after[2]) == sorted(before[2])
    assert PendingResponse.objects.filter(codes_shuffled=True).count() == 3

    monkeypatch.setattr(anonymity, "_move", real_move)
    assert anonymity.responses_shuffle().responses == 3
    assert state()[0:3] == before[0:3]
    assert PendingResponse.objects.count() == 0
    assert _rows(XMIN_JOIN) == []


@pytest.mark.django_db
def test_the_batch_keeps_every_response_and_answer_on_any_database(survey):
    """The same rewrite on SQLite (development) and inside an outer
    transaction (the demo loader): rows kept, pending rows gone."""
    _invitation(survey)
    codes = services.invitations_generate(survey=survey, count=3)
    for code in codes[:2]:
        assert _submit(survey, code, _answers(survey, text="Mer ljus"))
    responses = sorted(Response.objects.values_list("id", "date", "language", "channel"))
    answers = sorted(
        Answer.objects.values_list("id", "response_id", "question_id", "choice_id", "text")
    )

    result = anonymity.responses_shuffle()

    assert (result.pending, result.responses, result.answers, result.codes) == (2, 2, 22, 2)
    assert sorted(Response.objects.values_list("id", "date", "language", "channel")) == responses
    assert (
        sorted(Answer.objects.values_list("id", "response_id", "question_id", "choice_id", "text"))
        == answers
    )
    assert Invitation.objects.filter(used=True).count() == 2
    assert PendingResponse.objects.count() == 0
    assert anonymity.responses_shuffle().pending == 0


@pytest.mark.django_db
def test_the_command_reports_what_it_rewrote(survey):
    import io

    _submit(survey)
    out = io.StringIO()
    call_command("anonymise_responses", stdout=out)
    assert "1 nya svar" in out.getvalue()
    out = io.StringIO()
    call_command("anonymise_responses", stdout=out)
    assert "Inga nya svar" in out.getvalue()


def test_responses_and_answers_get_random_ids_and_no_time():
    ids = {anonymity.random_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(0 < i < 2**63 for i in ids)
    for model in (Response, Answer):
        assert model._meta.pk.get_default() != model._meta.pk.get_default()
    # Nothing finer than a date, and no history table that would add one.
    for model in (Response, Answer, Invitation, PendingResponse, SubmissionNonce):
        kinds = {type(f) for f in model._meta.get_fields() if f.concrete}
        assert not kinds & {models.DateTimeField, models.TimeField}, model
        assert not hasattr(model, "history"), model


@pytest.mark.django_db(transaction=True)
def test_the_demo_has_an_invitation_survey_whose_used_codes_are_already_rewritten():
    import io

    out = io.StringIO()
    call_command("load_demo", stdout=out)
    survey = Survey.objects.get(slug="inbjudan-2026")
    assert survey.mode == Survey.Mode.INVITATION and survey in Survey.objects.open_now()
    assert survey.invitations.count() == 40
    assert survey.invitations.filter(used=True).count() == survey.responses.count() == 12
    assert PendingResponse.objects.count() == 0
    if connection.vendor == "postgresql":
        assert _rows(XMIN_JOIN) == []
    assert "12 använda" in out.getvalue()
    # A second run adds nothing.
    call_command("load_demo", stdout=io.StringIO())
    assert survey.invitations.filter(used=True).count() == survey.responses.count() == 12
