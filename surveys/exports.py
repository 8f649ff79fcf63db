"""Anonymised exports: one row per response (numbered, not by id), one
column per question or choice. Officials only."""

from __future__ import annotations

import csv
import io

from surveys.models import Answer, Question, Response, Survey

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _safe(value):
    # Spreadsheet programs run cells that start like formulas.
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def columns(questions: list[Question]) -> list[tuple[str, tuple]]:
    cols: list[tuple[str, tuple]] = [
        ("nr", ("nr",)),
        ("datum", ("date",)),
        ("sprak", ("language",)),
        ("kanal", ("channel",)),
    ]
    for q in questions:
        if q.kind == Question.Kind.SINGLE:
            cols.append((q.key, ("single", q.pk)))
        elif q.kind == Question.Kind.MULTIPLE:
            for c in q.choices.all():
                cols.append((f"{q.key}.{c.key}", ("multi", q.pk, c.pk)))
                if c.allows_text:
                    cols.append((f"{q.key}.{c.key}.text", ("multitext", q.pk, c.pk)))
        elif q.kind == Question.Kind.TEXT:
            cols.append((q.key, ("text", q.pk)))
        elif q.kind == Question.Kind.PLACE:
            cols.append((f"{q.key}.omrade", ("district", q.pk)))
            cols.append((f"{q.key}.text", ("text", q.pk)))
    return cols


def rows(survey: Survey):
    """Header, then one list per response. Three queries (questions with
    choices, responses, answers), streamed in response order."""
    questions = list(
        survey.questions.with_choices().order_by("section__position", "position", "id")
    )
    cols = columns(questions)
    choice_keys = {c.pk: c.key for q in questions for c in q.choices.all()}
    yield [name for name, _spec in cols]
    answers = (
        Answer.objects.filter(response__survey=survey)
        .order_by("response_id", "id")
        .values_list("response_id", "question_id", "choice_id", "text", "district__name")
        .iterator(chunk_size=5000)
    )
    responses = (
        Response.objects.filter(survey=survey)
        .order_by("id")
        .values_list("id", "date", "language", "channel")
        .iterator(chunk_size=5000)
    )
    pending = next(answers, None)
    for number, (response_id, day, language, channel) in enumerate(responses, start=1):
        values: dict[tuple, object] = {}
        while pending is not None and pending[0] == response_id:
            _rid, question_id, choice_id, text, district = pending
            if choice_id is not None:
                values[("single", question_id)] = choice_keys.get(choice_id)
                values[("multi", question_id, choice_id)] = 1
                if text:
                    values[("multitext", question_id, choice_id)] = text
            else:
                if text:
                    values[("text", question_id)] = text
                if district:
                    values[("district", question_id)] = district
            pending = next(answers, None)
        fixed = {
            ("nr",): number,
            ("date",): day.isoformat(),
            ("language",): language,
            ("channel",): channel,
        }
        yield [_safe(fixed.get(spec, values.get(spec, ""))) for _name, spec in cols]


class _Line:
    """A file-like object whose write() hands back what was written, so the
    csv module can produce one line at a time for a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_lines(survey: Survey):
    """The CSV export as a stream of text lines (BOM first, for Excel), so a
    download starts at once and memory stays flat whatever the size."""
    writer = csv.writer(_Line(), delimiter=";")
    yield "\ufeff"
    for row in rows(survey):
        yield writer.writerow(row)


def as_csv(survey: Survey) -> str:
    return "".join(csv_lines(survey))


def as_xlsx(survey: Survey) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Svar")
    for row in rows(survey):
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
