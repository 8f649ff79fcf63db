"""The XLSX export: written as a stream by our own writer (surveys/xlsx.py), it must read
back in a spreadsheet library cell for cell as the rows the CSV carries."""

import io
import zipfile

from openpyxl import load_workbook

from surveys import exports, xlsx
from surveys.generate import generate_responses
from surveys.models import Answer, Question

HOSTILE = [
    '=HYPERLINK("http://example.com")',
    "+1-2",
    "<script>alert('x')</script> & \"quotes\" ]]>",
    "Åsa, Östhammar – ärligt talat 👍",
    "radbrytning\nmitt i\ttexten",
    "  inledande och avslutande mellanslag  ",
    "kontroll\x01tecken\x1fsom XML inte bär",
]


def _read_back(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    got = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
    # A streamed sheet cannot state its size first; rows end at their last value.
    width = len(got[0])
    return [row + [""] * (width - len(row)) for row in got]


def _with_hostile_texts(survey):
    generate_responses(survey, 25, seed=3)
    question = survey.questions.filter(kind=Question.Kind.TEXT).first()
    responses = survey.responses.order_by("id")[: len(HOSTILE)]
    for response, text in zip(responses, HOSTILE, strict=True):
        Answer.objects.filter(response=response, question=question).delete()
        Answer.objects.create(response=response, question=question, text=text)


def test_the_xlsx_reads_back_as_the_rows_of_the_csv(survey):
    _with_hostile_texts(survey)
    expected = list(exports.rows(survey))
    got = _read_back(b"".join(exports.xlsx_chunks(survey)))
    assert len(got) == len(expected) == 26
    for row_got, row_expected in zip(got, expected, strict=True):
        # Only what XML 1.0 cannot carry at all is dropped.
        row_expected = [xlsx._NOT_XML.sub("", v) if isinstance(v, str) else v for v in row_expected]
        assert row_got == row_expected
    flat = [v for row in got for v in row]
    assert "kontrolltecken" + "som XML inte bär" in flat
    assert "radbrytning\nmitt i\ttexten" in flat
    assert "  inledande och avslutande mellanslag  " in flat
    assert '\'=HYPERLINK("http://example.com")' in flat  # never a formula
    assert "Åsa, Östhammar – ärligt talat 👍" in flat


def test_the_xlsx_is_a_valid_package_with_a_frozen_bold_header(survey):
    generate_responses(survey, 3, seed=1)
    data = b"".join(exports.xlsx_chunks(survey))
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert package.testzip() is None
        assert {"[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"} <= set(
            package.namelist()
        )
        sheet_xml = package.read("xl/worksheets/sheet1.xml").decode()
    assert 'state="frozen"' in sheet_xml
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Svar"]
    assert workbook.active["A1"].value == "nr" and workbook.active["A1"].font.b
    assert workbook.active["A2"].value == 1  # numbers stay numbers


def test_the_xlsx_of_a_survey_without_responses_has_the_header_only(survey):
    assert _read_back(b"".join(exports.xlsx_chunks(survey))) == [next(exports.rows(survey))]


def test_the_xlsx_streams_its_first_bytes_before_reading_the_answers(survey):
    generate_responses(survey, 5, seed=2)
    chunks = exports.xlsx_chunks(survey)
    first = next(chunks)
    assert first.startswith(b"PK")  # the package's fixed parts, before any query
    assert b"".join([first, *chunks])


def test_column_names_go_past_z():
    names = [xlsx._column_name(i) for i in (0, 25, 26, 51, 52, 701, 702)]
    assert names == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]
