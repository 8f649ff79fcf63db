"""Anonymised exports: one row per response (numbered, not by id), one
column per question or choice. Officials only."""

from __future__ import annotations

import csv

from surveys import kinds, xlsx
from surveys.models import Answer, Response, Survey

XLSX_CONTENT_TYPE = xlsx.CONTENT_TYPE
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _safe(value):
    # Spreadsheet programs run cells that start like formulas.
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


HEADER = ["nr", "datum", "sprak", "kanal"]


def rows(survey: Survey):
    """Header, then one list per response. Three queries (questions with
    choices, responses, answers), streamed in response order. Each question
    takes the columns its kind names (surveys/kinds.py) and fills them."""
    questions = list(survey.questions.in_form_order())
    header = list(HEADER)
    # Per question: (its first column, its kind's cell writer).
    writers = {}
    for q in questions:
        kind = kinds.of(q)
        writers[q.pk] = (len(header), kind.export_cells(q))
        header += kind.export_columns(q)
    width = len(header)
    yield header
    answers = (
        Answer.objects.filter(response__survey=survey)
        .order_by("response_id", "id")
        .values_list("response_id", "question_id", "choice_id", "text", "district__name", "number")
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
        row = [""] * width
        row[0:4] = [number, day.isoformat(), language, channel]
        while pending is not None and pending[0] == response_id:
            _rid, question_id, choice_id, text, district, answer_number = pending
            writer = writers.get(question_id)
            if writer is not None:
                first, cells = writer
                for offset, value in cells(choice_id, text, district, answer_number):
                    row[first + offset] = _safe(value)
            pending = next(answers, None)
        yield row


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


def xlsx_chunks(survey: Survey):
    """The XLSX export as a stream of bytes: the rows of the CSV, with a
    bold, frozen header row, one sheet named "Svar"."""
    return xlsx.stream(rows(survey))
