"""Anonymised exports: one row per response (numbered, not by id), one
column per question or choice. Officials only."""

from __future__ import annotations

import csv
import re
import zipfile

from surveys import kinds
from surveys.models import Answer, Response, Survey

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


def as_csv(survey: Survey) -> str:
    return "".join(csv_lines(survey))


# --- XLSX, written as a stream ------------------------------------------
#
# An .xlsx file is a zip of a few XML parts. The sheet is written row by
# row into a deflate stream and handed on in chunks, so the download starts
# at once and memory stays flat (a spreadsheet library would build the whole
# file first). Text goes in inline strings, which a spreadsheet never runs as
# a formula; the cells keep the CSV's values all the same.

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{_PKG_REL_NS}">'
        f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
        '<sheets><sheet name="Svar" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_PKG_REL_NS}">'
        f'<Relationship Id="rId1" Type="{_REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL_NS}/styles" Target="styles.xml"/>'
        "</Relationships>"
    ),
    "xl/styles.xml": (
        f'<styleSheet xmlns="{_MAIN_NS}">'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}
_SHEET_HEAD = (
    f'<worksheet xmlns="{_MAIN_NS}"><sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    "</sheetView></sheetViews><sheetData>"
)
_SHEET_TAIL = "</sheetData></worksheet>"
# Characters XML 1.0 cannot carry at all (control characters, lone
# surrogates, U+FFFE/U+FFFF): dropped from a cell rather than breaking the file.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ROWS_PER_CHUNK = 200


def _column_name(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA …"""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _text_xml(value: str) -> str:
    value = _NOT_XML.sub("", value)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f' t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>'


def _row_xml(number: int, row: list, names: list[str], texts: dict, style: str = "") -> str:
    """One row's XML. `texts` remembers the XML of short values (answer
    keys, languages, dates repeat on every row)."""
    cells = [f'<row r="{number}">']
    for name, value in zip(names, row, strict=True):
        if value == "" or value is None:
            continue  # an empty cell is simply not written
        if type(value) is int:
            cells.append(f'<c r="{name}{number}"{style}><v>{value}</v></c>')
            continue
        xml = texts.get(value)
        if xml is None:
            xml = _text_xml(str(value))
            if len(value) <= 40 and len(texts) < 10_000:
                texts[value] = xml
        cells.append(f'<c r="{name}{number}"{style}{xml}')
    cells.append("</row>")
    return "".join(cells)


class _Chunks:
    """Where the zip writer writes: collects bytes until they are taken."""

    def __init__(self):
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def xlsx_chunks(survey: Survey):
    """The XLSX export as a stream of bytes: same rows and values as the CSV,
    a bold, frozen header row, one sheet named "Svar"."""
    out = _Chunks()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        for name, xml in _XLSX_PARTS.items():
            package.writestr(name, _XML_HEAD + xml)
        yield out.take()
        with package.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write((_XML_HEAD + _SHEET_HEAD).encode())
            all_rows = rows(survey)
            header = next(all_rows)
            names = [_column_name(i) for i in range(len(header))]
            texts: dict[str, str] = {}
            batch = [_row_xml(1, header, names, {}, ' s="1"')]
            for number, row in enumerate(all_rows, start=2):
                batch.append(_row_xml(number, row, names, texts))
                if len(batch) >= _ROWS_PER_CHUNK:
                    sheet.write("".join(batch).encode())
                    batch.clear()
                    chunk = out.take()
                    if chunk:
                        yield chunk
            batch.append(_SHEET_TAIL)
            sheet.write("".join(batch).encode())
    yield out.take()


def as_xlsx(survey: Survey) -> bytes:
    return b"".join(xlsx_chunks(survey))
