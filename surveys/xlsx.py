"""A streaming XLSX writer for the survey export.

It replaces a spreadsheet library (openpyxl, xlsxwriter), which builds the
whole file before sending a byte: openpyxl took 58 s for 100 000 responses,
past gunicorn's 30 s timeout, where this writer streams the rows to the
socket (first byte 0.04 s, all in 13.9 s; bench/NOTES.md,
docs/bench-results.md).

An .xlsx file is a zip of a few XML parts. Text goes in inline strings,
which a spreadsheet never runs as a formula.
"""

from __future__ import annotations

import re
import zipfile

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
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


def stream(rows):
    """`rows` (header first, then lists of str, int or "") as XLSX bytes,
    in chunks: a bold, frozen header row, one sheet named "Svar"."""
    out = _Chunks()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        for name, xml in _XLSX_PARTS.items():
            package.writestr(name, _XML_HEAD + xml)
        yield out.take()
        with package.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write((_XML_HEAD + _SHEET_HEAD).encode())
            rows = iter(rows)
            header = next(rows)
            names = [_column_name(i) for i in range(len(header))]
            texts: dict[str, str] = {}
            batch = [_row_xml(1, header, names, {}, ' s="1"')]
            for number, row in enumerate(rows, start=2):
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
