"""Parsing real files of every supported type, built here, and refusing damaged ones cleanly."""

import io
import json
import random
import re
import zipfile

import docx
import pytest
from bs4.element import Tag
from docx.text.paragraph import Paragraph
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from ragstore.errors import InvalidFile, UnsupportedFile
from ragstore.ingest import zipguard
from ragstore.ingest.parse import SUPPORTED_EXTENSIONS, Section, parse


def make_pdf(*pages: str) -> bytes:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.cell(text=text)
    return bytes(pdf.output())


def encrypt(data: bytes, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password, owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def texts(sections: list[Section]) -> list[str]:
    return [section.text for section in sections]


def test_supported_extensions():
    assert sorted(SUPPORTED_EXTENSIONS) == [
        ".csv", ".docx", ".htm", ".html", ".json", ".jsonl", ".markdown", ".md", ".pdf", ".txt",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("filename", "shown"),
    [("setup.exe", "of type .exe"), ("archive.tar.gz", "of type .gz"), ("README", "without an extension")],
)
def test_unknown_extension_is_unsupported(filename, shown):
    with pytest.raises(UnsupportedFile) as caught:
        parse(filename, b"hello")
    assert caught.value.message.startswith(f"Files {shown} are not supported; supported: .csv, .docx,")


def test_extension_is_case_insensitive():
    assert texts(parse("NOTES.TXT", b"hello")) == ["hello"]


def test_section_defaults_and_hash():
    section = Section("text")
    assert (section.page, section.metadata) == (None, {})
    assert hash(section) == hash(Section("text", metadata={"a": 1}))


# Text and Markdown


def test_text_is_one_section_with_markdown_kept():
    assert parse("notes.md", b"# Title\n\nSome *text*.\n") == [Section("# Title\n\nSome *text*.")]


def test_latin1_text_is_detected():
    assert texts(parse("menu.txt", "café crème".encode("latin-1"))) == ["café crème"]


def test_cyrillic_text_is_detected():
    text = "Привет, как дела? Это тест."
    assert texts(parse("note.txt", text.encode("cp1251"))) == [text]


def test_utf16_with_bom():
    assert texts(parse("notes.txt", "naïve ☃ text".encode("utf-16"))) == ["naïve ☃ text"]


def test_utf8_bom_is_stripped():
    assert texts(parse("notes.txt", b"\xef\xbb\xbfhello \xe2\x98\x83")) == ["hello ☃"]


def test_normalisation_of_nul_line_ends_and_blank_lines():
    data = b"  one\x00 two\r\n\r\nthree\r\n\r\n\r\n\r\n\r\nfour\n\n\nfive\n"
    assert texts(parse("notes.txt", data)) == ["one two\n\nthree\n\nfour\n\n\nfive"]


def test_binary_named_txt_is_invalid():
    with pytest.raises(InvalidFile, match="not a text file"):
        parse("image.txt", bytes(range(256)) * 50)


@pytest.mark.parametrize(
    ("data", "named"),
    [(make_pdf("A PDF."), "a PDF document (.pdf)"), (b"PK\x03\x04" + bytes(range(256)) * 4, "a zip archive")],
)
def test_a_known_binary_format_named_as_text_is_named(data, named):
    with pytest.raises(InvalidFile) as caught:
        parse("notes.txt", data)
    assert caught.value.message.startswith(f"Could not read this as text: it is {named}")


@pytest.mark.parametrize("data", [b"", b" \n\r\n\t ", b"\x00\x00\x00"])
def test_file_without_text_is_invalid(data):
    with pytest.raises(InvalidFile, match=r"^This \.txt file contains no text\.$"):
        parse("empty.txt", data)


def test_broken_utf16_after_bom_is_invalid():
    with pytest.raises(InvalidFile, match="not valid utf-16"):
        parse("notes.txt", b"\xff\xfea")


# HTML


def test_html_keeps_visible_text_only():
    html = b"""<!DOCTYPE html><html><head><title>Shop</title><style>body { color: red }</style>
    <script>var secret = "do not index";</script></head>
    <body><h1>Welcome</h1><p>Fresh <b>bread</b>   every
    day.</p><ul><li>Rye</li><li>Spelt</li></ul><noscript>Enable JavaScript</noscript>
    <div hidden>Hidden offer</div><!-- a comment --><template><p>Template</p></template>
    <table><tr><th>Item</th><th>Price</th></tr><tr><td>Rye</td><td>3</td></tr></table>
    Open<br>daily</body></html>"""
    [section] = parse("index.html", html)
    assert section.text == (
        "Shop\n\nWelcome\n\nFresh bread every day.\n\nRye\nSpelt\n\nItem | Price\nRye | 3\n\nOpen\ndaily"
    )
    for hidden in ("color", "secret", "JavaScript", "Hidden offer", "comment", "Template", "DOCTYPE"):
        assert hidden not in section.text


def test_html_title_repeated_by_the_first_h1_is_kept_once():
    page = b"<html><head><title>Parking</title></head><body><h1> parking </h1><p>Level -2 is free.</p></body></html>"
    assert texts(parse("parking.html", page)) == ["parking\n\nLevel -2 is free."]
    other = b"<html><head><title>Acme intranet</title></head><body><h1>Parking</h1><p>Free.</p></body></html>"
    assert texts(parse("parking.html", other)) == ["Acme intranet\n\nParking\n\nFree."]


def test_html_meta_charset_is_respected():
    html = '<html><head><meta charset="iso-8859-1"></head><body><p>Crème brûlée</p></body></html>'
    assert texts(parse("dessert.htm", html.encode("latin-1"))) == ["Crème brûlée"]


def test_html_nested_deeper_than_python_recurses_is_read_without_changing_the_tree(monkeypatch):
    # Marking blocks by inserting into the tree walked to each tag's last descendant: 100,000 nested <div>s took
    # a quarter of an hour.
    for method in ("insert_before", "insert_after", "append", "replace_with", "decompose", "extract"):
        monkeypatch.setattr(Tag, method, lambda *_: pytest.fail("the tree was changed"))
    depth = 100_000
    inner = b"deep<br>down<table><tr><td>a</td><td>b</td></tr></table>"
    html = b"<p>Top</p>" + b"<div>" * depth + inner + b"</div>" * depth
    assert texts(parse("deep.html", html)) == ["Top\n\ndeep\ndown\n\na | b"]


def test_html_with_only_a_script_has_no_text():
    with pytest.raises(InvalidFile, match="contains no text"):
        parse("app.html", b"<html><body><script>main()</script></body></html>")


# PDF


def test_pdf_has_one_section_per_page():
    sections = parse("report.pdf", make_pdf("Apples grow on trees.", "Pears are sweet."))
    assert sections == [Section("Apples grow on trees.", page=1), Section("Pears are sweet.", page=2)]


def test_pdf_pages_without_text_are_skipped_but_numbering_kept():
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.rect(10, 10, 50, 50)
    pdf.add_page()
    pdf.cell(text="Only the second page has text.")
    assert parse("report.pdf", bytes(pdf.output())) == [Section("Only the second page has text.", page=2)]


def test_pdf_without_text_layer_is_invalid():
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(10, 10, 50, 50)
    with pytest.raises(InvalidFile, match="contains no text: it has no text layer"):
        parse("scan.pdf", bytes(pdf.output()))


def test_corrupt_pdf_is_invalid():
    with pytest.raises(InvalidFile, match="damaged or is not a PDF"):
        parse("broken.pdf", b"%PDF-1.4 garbage")


def test_truncated_pdf_raises_only_invalid_file():
    data = make_pdf("Apples grow on trees.", "Pears are sweet.")
    for cut in range(0, len(data), max(1, len(data) // 40)):
        try:
            sections = parse("cut.pdf", data[:cut])
        except InvalidFile:
            continue
        assert all(section.text.strip() for section in sections)


def test_pdf_with_password_is_invalid():
    with pytest.raises(InvalidFile, match="encrypted"):
        parse("secret.pdf", encrypt(make_pdf("Top secret."), "hunter2"))


def test_pdf_with_owner_password_only_is_read():
    data = encrypt(make_pdf("Print me, do not edit me."), "")
    assert parse("locked.pdf", data) == [Section("Print me, do not edit me.", page=1)]


# DOCX


def make_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Annual report", level=0)
    document.add_heading("Sales", level=1)
    document.add_paragraph("Sales grew in every city.")
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([["City", "Sales", "Growth"], ["Paris", "10", "5%"], ["Lyon", "", "2%"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph("")
    document.add_heading("Outlook", level=2)
    document.add_paragraph("More stores next year.")
    merged = document.add_table(rows=1, cols=2)
    merged.cell(0, 0).merge(merged.cell(0, 1)).text = "Spanning cell"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_keeps_headings_paragraphs_and_tables_in_order():
    assert texts(parse("report.docx", make_docx())) == [
        "# Annual report\n\n# Sales\n\nSales grew in every city.\n\n"
        "City | Sales | Growth\nParis | 10 | 5%\nLyon |  | 2%\n\n"
        "## Outlook\n\nMore stores next year.\n\nSpanning cell"
    ]


@pytest.mark.parametrize("data", [b"not a zip at all", make_pdf("A PDF renamed.")])
def test_docx_that_is_not_a_docx_is_invalid(data):
    with pytest.raises(InvalidFile, match="not a Word document"):
        parse("report.docx", data)


def docx_with_body(body: bytes, compresslevel: int = 6) -> bytes:
    """A real .docx whose body is replaced by the given XML."""
    with zipfile.ZipFile(io.BytesIO(make_docx())) as real:
        parts = {info.filename: real.read(info) for info in real.infolist()}
    document = parts["word/document.xml"]
    start, end = document.index(b"<w:body>") + len(b"<w:body>"), document.index(b"<w:sectPr")
    parts["word/document.xml"] = document[:start] + body + document[end:]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def paragraph(text: str, style: str | None = None) -> bytes:
    properties = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f"<w:p>{properties}<w:r><w:t>{text}</w:t></w:r></w:p>".encode()


def test_docx_style_ids_that_are_not_paragraph_styles_read_as_the_default():
    body = paragraph("Title", "Heading2") + paragraph("Body", "NoSuchStyle") + paragraph("Strong", "Strong")
    assert texts(parse("styles.docx", docx_with_body(body))) == ["## Title\n\nBody\n\nStrong"]


def test_docx_paragraph_styles_are_looked_up_once_per_document(monkeypatch):
    # python-docx's paragraph.style searches every style of the document: 5,000 paragraphs took a minute.
    body = b"".join(paragraph(f"Paragraph {i}.", "Heading1" if i % 100 == 0 else None) for i in range(5_000))
    data = docx_with_body(body)
    monkeypatch.setattr(Paragraph, "style", property(lambda _: pytest.fail("paragraph.style read per paragraph")))
    [section] = parse("long.docx", data)
    assert section.text.count("\n\n# Paragraph") == 49 and section.text.endswith("Paragraph 4999.")


def test_docx_zip_bomb_is_refused_before_it_is_unpacked(monkeypatch):
    monkeypatch.setattr(zipguard, "MAX_UNPACKED", 4 * 1024 * 1024)
    bomb = docx_with_body(paragraph("ha" * 4 * 1024 * 1024))
    with pytest.raises(InvalidFile) as caught:
        parse("bomb.docx", bomb)
    assert re.fullmatch(
        r"This \.docx file looks like a zip bomb: its part word/document\.xml would unpack from [\d.]+ KB to "
        r"8 MB \([\d,]+ times\)\. ragstore unpacks at most 4 MB of a Word document\.",
        caught.value.message,
    )


def test_docx_too_large_to_read_is_refused_without_calling_it_a_bomb(monkeypatch):
    monkeypatch.setattr(zipguard, "MAX_XML", 2 * 1024 * 1024)
    words = random.Random(3).choices(["policy", "budget", "travel", "office", "report", "review"], k=200_000)
    with pytest.raises(InvalidFile) as caught:
        parse("big.docx", docx_with_body(paragraph(" ".join(words))))
    assert re.fullmatch(
        r"This \.docx file is too large to read: it unpacks to [\d.]+ MB, [\d.]+ MB of it XML\. ragstore reads Word "
        r"documents of up to 256 MB unpacked, 2 MB of it XML; split it into smaller documents\.",
        caught.value.message,
    )


def test_docx_within_the_limits_is_read(monkeypatch):
    monkeypatch.setattr(zipguard, "MAX_XML", 2 * 1024 * 1024)
    assert texts(parse("small.docx", docx_with_body(paragraph("Small enough.")))) == ["Small enough."]


def test_truncated_docx_raises_only_invalid_file():
    data = make_docx()
    for cut in range(0, len(data), max(1, len(data) // 40)):
        with pytest.raises(InvalidFile):
            parse("cut.docx", data[:cut])


# CSV


def test_csv_rows_become_header_value_lines():
    data = b"city,country,population\r\nParis,France,2100000\r\n\r\nBerlin,,3600000,extra\r\nRome,Italy\r\n"
    assert texts(parse("cities.csv", data)) == [
        "city: Paris; country: France; population: 2100000\n"
        "city: Berlin; population: 3600000; column 4: extra\n"
        "city: Rome; country: Italy"
    ]


def test_csv_delimiter_is_sniffed_and_quotes_respected():
    data = b'name;note\nAnn;"likes ; semicolons"\nBob;"two\nlines"\n'
    assert texts(parse("people.csv", data)) == ["name: Ann; note: likes ; semicolons\nname: Bob; note: two lines"]


def test_csv_cells_longer_than_the_csv_modules_default_limit_are_read():
    long = "word " * 60_000  # 300 kB in one cell; the csv module refuses cells over 128 KiB by default
    data = f'title,body\nmanual,"{long}"\n'.encode()
    assert texts(parse("long.csv", data)) == [f"title: manual; body: {long.strip()}"]


def test_csv_with_only_a_header_is_invalid():
    with pytest.raises(InvalidFile, match="no data rows"):
        parse("empty.csv", b"city,country\n")


# JSON and JSON Lines


def test_json_list_keeps_scalar_metadata():
    documents = [
        {
            "text": "First document.",
            "author": "Ann",
            "year": 2020,
            "score": 0.5,
            "draft": False,
            "tags": ["a", "b"],
            "source": {"url": "https://example.com"},
            "reviewer": None,
            "metadata": {"author": "Bob", "lang": "en", "extra": {"deep": 1}},
        },
        {"id": 7, "title": "No text field", "nested": {"a": 1}},
        "A bare string document.",
        42,
    ]
    assert parse("docs.json", json.dumps(documents).encode()) == [
        Section(
            "First document.",
            metadata={"author": "Bob", "year": 2020, "score": 0.5, "draft": False, "lang": "en"},
        ),
        Section("id: 7\ntitle: No text field", metadata={"id": 7, "title": "No text field"}),
        Section("A bare string document."),
    ]


def test_json_text_field_order():
    document = {"body": "the body", "content": "the content", "text": ""}
    assert parse("doc.json", json.dumps(document).encode()) == [
        Section("the content", metadata={"body": "the body", "text": ""})
    ]


@pytest.mark.parametrize("key", ["documents", "data", "items"])
def test_json_object_holding_a_list_of_documents(key):
    data = json.dumps({key: [{"page_content": "one"}, {"content": "two"}], "total": 2}).encode()
    assert texts(parse("export.json", data)) == ["one", "two"]


def test_json_bare_string():
    assert texts(parse("note.json", b'"just a string"')) == ["just a string"]


def test_invalid_json_names_line_and_column():
    with pytest.raises(InvalidFile) as caught:
        parse("bad.json", b'{"a": 1,\n  "b": }')
    assert caught.value.message == "This JSON file is not valid JSON: Expecting value (line 2, column 8)."


def test_deeply_nested_json_is_invalid_not_a_crash():
    with pytest.raises(InvalidFile, match="nested too deeply"):
        parse("deep.json", b"[" * 100000)


@pytest.mark.parametrize("data", [b"[]", b"{}", b"42", b"null", b'[{"tags": [1, 2]}]'])
def test_json_without_text_is_invalid(data):
    with pytest.raises(InvalidFile, match="contains no text"):
        parse("empty.json", data)


def test_jsonl_one_document_per_line():
    data = b'{"text": "first", "n": 1}\r\n\n{"body": "second"}\n"third"\n'
    assert parse("docs.jsonl", data) == [
        Section("first", metadata={"n": 1}),
        Section("second"),
        Section("third"),
    ]


def test_jsonl_bad_line_names_its_number():
    with pytest.raises(InvalidFile, match=r"\(line 3, column \d+\)"):
        parse("docs.jsonl", b'{"text": "a"}\n{"text": "b"}\n{"text": \n{"text": "d"}\n')
