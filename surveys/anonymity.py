"""Anonymity against whoever reads the database: no response can be paired
with the invitation code that admitted it, nor with a moment finer than its
date (design.md, "Anonymity and small numbers").

What would pair them, and what this module does about each:

- **Ids.** A sequence hands out ids in submission order, so the n-th
  response of the day is the n-th POST in an access log. Responses and
  answers get random 63-bit ids instead (`random_id`, the models' default;
  no sequence, the column stays bigint). Exports order by that id, so they
  are in no particular order either.
- **Transaction ids and row positions.** A submission marks its code used in
  the same transaction that inserts the response and its answers: until
  something rewrites them, the code's and the response's `xmin` are equal,
  consecutive transaction ids follow the submission order, and the rows sit
  in the table (`ctid`) in that order. So each submission also writes its
  response's id into `PendingResponse`, and a batch (`responses_shuffle`,
  run every 5 minutes by `manage.py anonymise_responses`) rewrites, in random
  order:
  1. in one transaction, every used invitation code of the surveys with
     pending responses (all of them, so the number rewritten says nothing
     about which codes are new), marking those pending rows;
  2. in a second transaction, every response of each (survey, date) with a
     marked pending row, with all their answers (the whole day's set, so
     that which batch a response went through says nothing finer than its
     date), and the marked pending rows are deleted;
  3. VACUUM of those tables, which removes the old row versions that still
     carried the submission's `xmin`.
  Two transactions, so that no code and no response ever share an `xmin`
  (one transaction would give all of them the batch's). Afterwards the
  used codes carry the first one's `xmin`, the responses and answers the
  second one's, all at random places, and the pending rows are gone.
- **Time.** A response stores its date only; the tables of responses,
  answers, pending rows, nonces and codes have no timestamp and no history
  table (tests/surveys/test_anonymity.py checks the models).

The window: between a submission and the next batch (the schedule's
interval, 5 minutes in the documented cron line, plus the batch's own run
of seconds) the pairing is in the database, as it is in the memory of the
server that saved it. If a transaction older than the batch is still open
when it VACUUMs (a long export, a replica with hot_standby_feedback), the
old row versions outlive it until the next run's VACUUM. Backups and WAL
archives taken inside the window keep the pairing for as long as they are
kept; the privacy text and docs/enkat.md say so in words.

Exactly once still holds, under READ COMMITTED:
- a submission is one transaction (nonce, code, response, answers, pending
  row): a crash leaves all of it or nothing;
- the batch only moves rows that are already committed and never changes a
  code's `used`: a used code is deleted and inserted again (used) in one
  statement, so a submission racing it with that code sees either version,
  both used, and its `UPDATE … WHERE NOT used` refuses; an unused code is
  never touched by the batch, so a submission using it never waits for it;
- every row the batch deletes is taken with the DELETE's RETURNING and
  inserted again from that copy in the same transaction, so a concurrent
  change (an official deleting a response, retention blanking a text) is
  either waited for and kept, or not seen and not undone;
- an exception rolls back the step it happens in: a failed first step
  changes nothing; a failed second step leaves the codes rewritten and the
  responses and pending rows as they were, and the next run rewrites them;
- a response saved while the batch runs keeps its pending row unmarked and
  goes through the next batch, whose first step sees its code used;
- two batches at once: the second finds the advisory lock taken and does
  nothing (the next run picks up what is left).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections, transaction

# The advisory lock that keeps two batches apart ("anon" in ASCII).
_LOCK = 0x616E6F6E


def random_id() -> int:
    """A primary key that carries no order: 63 random bits, never 0 (a
    bigint's positive range; the chance of two alike among a hundred million
    rows is about one in a billion, and a clash is refused by the primary
    key, never stored)."""
    return secrets.randbits(63) or 1


def response_saved(response_id: int) -> None:
    """Note, inside the submission's transaction, that this response waits
    for the next batch. Nothing else is written: the pending row names the
    response only."""
    from surveys.models import PendingResponse

    PendingResponse.objects.create(response_id=response_id)


@dataclass(frozen=True)
class ShuffleResult:
    """What one batch rewrote; `ran` is False when another batch held the lock."""

    ran: bool = True
    pending: int = 0
    responses: int = 0
    answers: int = 0
    codes: int = 0


# The statements below are put together from this app's table and column
# names and nothing else (hence the noqa: S608), never from input.
def _columns(model_name: str) -> str:
    from django.apps import apps

    model = apps.get_model("surveys", model_name)
    return ", ".join(f.column for f in model._meta.concrete_fields)


def responses_shuffle(*, using: str = DEFAULT_DB_ALIAS, vacuum: bool = True) -> ShuffleResult:
    """Rewrite the used codes of the surveys that got responses since the
    last batch, then (in a second transaction, so that no code and no
    response ever share a transaction id) those responses with the rest of
    their survey's day and their answers, all in random order; then VACUUM
    (after the commit: called inside an outer transaction, once that
    commits). Idempotent: with nothing pending it rewrites nothing."""
    db = connections[using]
    postgresql = db.vendor == "postgresql"
    with transaction.atomic(using=using), db.cursor() as cursor:
        if not _locked(cursor, postgresql):
            return ShuffleResult(ran=False)
        codes = _shuffle_codes(cursor, postgresql)
    # A crash here leaves the marked pending rows for the next run, which
    # rewrites their survey's codes again (harmless) and then the responses.
    with transaction.atomic(using=using), db.cursor() as cursor:
        if not _locked(cursor, postgresql):
            return ShuffleResult(ran=False, codes=codes)
        result = _shuffle_responses(cursor, postgresql)
    # Every run that took the lock, even with nothing new: a VACUUM held
    # back by an older transaction last time gets its second chance.
    if vacuum and postgresql:
        transaction.on_commit(lambda: vacuum_tables(using=using), using=using)
    return ShuffleResult(
        pending=result.pending, responses=result.responses, answers=result.answers, codes=codes
    )


def _locked(cursor, postgresql: bool) -> bool:
    if not postgresql:
        return True  # SQLite: one writer at a time anyway
    cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK])
    return cursor.fetchone()[0]


def _shuffle_codes(cursor, postgresql: bool) -> int:
    """Mark the pending responses this batch will rewrite, then rewrite
    every used code of their surveys (all of them, so the number says
    nothing), deleted and inserted again (still used) in random order. A
    response saved after the marking waits for the next batch, whose code
    rewrite sees its code used."""
    cursor.execute(
        "UPDATE surveys_pendingresponse SET codes_shuffled = true WHERE NOT codes_shuffled"
    )
    cols = _columns("Invitation")
    where = (
        "used AND survey_id IN (SELECT r.survey_id FROM surveys_response r "
        "JOIN surveys_pendingresponse p ON p.response_id = r.id WHERE p.codes_shuffled)"
    )
    if postgresql:
        # One statement: a submission sending one of these codes meanwhile
        # sees the old row or the new one, used either way, and is refused.
        cursor.execute(
            f"WITH gone AS (DELETE FROM surveys_invitation WHERE {where} RETURNING {cols}) "  # noqa: S608
            f"INSERT INTO surveys_invitation ({cols}) SELECT {cols} FROM gone ORDER BY random()"
        )
        return cursor.rowcount
    # SQLite (development): one writer at a time, so a copy is as good.
    cursor.execute(
        "CREATE TEMPORARY TABLE anon_invitation AS SELECT * FROM surveys_invitation WHERE 1 = 0"
    )
    _move(cursor, postgresql, "surveys_invitation", "anon_invitation", cols, where)
    cursor.execute(
        f"INSERT INTO surveys_invitation ({cols}) SELECT {cols} FROM anon_invitation ORDER BY random()"  # noqa: S608
    )
    codes = cursor.rowcount
    cursor.execute("DROP TABLE anon_invitation")
    return codes


def _shuffle_responses(cursor, postgresql: bool) -> ShuffleResult:
    """Take the marked pending rows, and rewrite the whole day's responses
    of each survey that got one, with their answers, in random order."""
    response_cols, answer_cols = _columns("Response"), _columns("Answer")
    for name, source in (("anon_response", "surveys_response"), ("anon_answer", "surveys_answer")):
        cursor.execute(f"CREATE TEMPORARY TABLE {name} AS SELECT * FROM {source} WHERE 1 = 0")  # noqa: S608
    cursor.execute("CREATE TEMPORARY TABLE anon_pending (response_id bigint)")
    cursor.execute("CREATE TEMPORARY TABLE anon_place (id bigint, place double precision)")
    _move(
        cursor,
        postgresql,
        "surveys_pendingresponse",
        "anon_pending",
        "response_id",
        "codes_shuffled",
    )
    cursor.execute("SELECT count(*) FROM anon_pending")
    pending = cursor.fetchone()[0]
    responses = answers = 0
    if pending:
        # Each response of those surveys' days, with a random place.
        cursor.execute(
            """
            INSERT INTO anon_place (id, place)
            SELECT r.id, random() FROM surveys_response r
            WHERE EXISTS (
                SELECT 1 FROM surveys_response p JOIN anon_pending n ON n.response_id = p.id
                WHERE p.survey_id = r.survey_id AND p.date = r.date
            )
            """
        )
        # Answers first: a response with answers cannot be deleted (migration
        # 0005's trigger, or a foreign key).
        chosen = "IN (SELECT id FROM anon_place)"
        _move(
            cursor,
            postgresql,
            "surveys_answer",
            "anon_answer",
            answer_cols,
            f"response_id {chosen}",
        )
        _move(
            cursor, postgresql, "surveys_response", "anon_response", response_cols, f"id {chosen}"
        )
        cursor.execute(
            f"INSERT INTO surveys_response ({response_cols}) "  # noqa: S608
            f"SELECT {_prefixed(response_cols, 'r')} FROM anon_response r "
            "JOIN anon_place p ON p.id = r.id ORDER BY p.place"
        )
        responses = cursor.rowcount
        # Each response's answers together (exports and breakdowns read them
        # by response), the responses in their random order.
        cursor.execute(
            f"INSERT INTO surveys_answer ({answer_cols}) "  # noqa: S608
            f"SELECT {_prefixed(answer_cols, 'a')} FROM anon_answer a "
            "LEFT JOIN anon_place p ON p.id = a.response_id ORDER BY p.place, a.question_id, a.id"
        )
        answers = cursor.rowcount
    # Dropped here, not ON COMMIT: a batch inside an outer transaction (the
    # demo loader, a test) may be followed by another in the same one.
    for name in ("anon_pending", "anon_place", "anon_answer", "anon_response"):
        cursor.execute(f"DROP TABLE {name}")
    return ShuffleResult(pending=pending, responses=responses, answers=answers)


def _move(cursor, postgresql, source, target, cols, where) -> None:
    """Delete the rows of `source` that match `where` into `target`. On
    PostgreSQL one statement: what is copied is exactly what was deleted
    (a row changed or deleted meanwhile is waited for and read as it is
    now, so the batch never undoes a concurrent change)."""
    if postgresql:
        cursor.execute(
            f"WITH gone AS (DELETE FROM {source} WHERE {where} RETURNING {cols}) "  # noqa: S608
            f"INSERT INTO {target} ({cols}) SELECT {cols} FROM gone"
        )
    else:
        cursor.execute(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {source} WHERE {where}")  # noqa: S608
        cursor.execute(f"DELETE FROM {source} WHERE {where}")  # noqa: S608


def _prefixed(cols: str, alias: str) -> str:
    return ", ".join(f"{alias}.{c.strip()}" for c in cols.split(","))


def vacuum_tables(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Remove the old row versions the batch left (they still carry the
    submissions' xmin). VACUUM cannot run inside a transaction."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "VACUUM surveys_pendingresponse, surveys_response, surveys_answer, surveys_invitation"
        )
