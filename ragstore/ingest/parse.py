"""Parsing: a file's bytes in, sections of plain text out, chosen by the file's extension."""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import docx
from bs4 import BeautifulSoup
from bs4.dammit import EncodingDetector
from charset_normalizer import from_bytes
from docx.enum.style import WD_STYLE_TYPE
from docx.table import Table
from pypdf import PdfReader
from pypdf.errors import DependencyError

from ragstore.errors import InvalidFile, UnsupportedFile
from ragstore.ingest import html_text, zipguard

Scalar = str | int | float | bool


@dataclass(frozen=True)
class Section:
    """A piece of a parsed document: its text, its page (PDF only, 1-based) and per-document metadata."""

    text: str
    page: int | None = None
    metadata: Mapping[str, Scalar] = field(default_factory=dict, hash=False)


# Byte-order marks, longest first: the UTF-32-LE mark starts with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control characters that do not occur in text; NUL is left out because it is stripped, not refused.
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_BLANK_RUN = re.compile(r"\n(?:[ \t]*\n){3,}")
# Binary formats recognised by their first bytes, to say what a file named as text really is.
_MAGIC = (
    (b"%PDF-", "a PDF document (.pdf)"),
    (b"PK\x03\x04", "a zip archive, such as a Word document (.docx)"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
)
_TEXT_FIELDS = ("text", "content", "page_content", "body")
_LIST_FIELDS = ("documents", "data", "items")


def parse(filename: str, data: bytes) -> list[Section]:
    """Parse a file's bytes, chosen by its extension (case-insensitive), into sections of text."""
    ext = os.path.splitext(filename)[1].lower()
    parser = PARSERS.get(ext)
    if parser is None:
        supported = ", ".join(sorted(PARSERS))
        kind = f"of type {ext}" if ext else "without an extension"
        raise UnsupportedFile(f"Files {kind} are not supported; supported: {supported}.")
    sections = [replace(s, text=normalize(s.text), metadata=_clean_metadata(s.metadata)) for s in parser(data)]
    sections = [s for s in sections if s.text]
    if not sections:
        raise InvalidFile(f"This {ext} file contains no text.")
    return sections


def normalize(text: str) -> str:
    """Drop NUL bytes and lone surrogates, use \\n line ends, cut runs of 3+ blank lines to one, trim the ends."""
    text = _storable(text).replace("\r\n", "\n").replace("\r", "\n")
    return _BLANK_RUN.sub("\n\n", text).strip()


_SURROGATE = re.compile("[\ud800-\udfff]")


def _storable(text: str) -> str:
    """Text PostgreSQL can hold: no NUL, and lone surrogates (from JSON escapes) as U+FFFD."""
    return _SURROGATE.sub("\ufffd", text.replace("\x00", ""))


def _clean_metadata(metadata: Mapping[str, Scalar]) -> dict[str, Scalar]:
    return {_storable(k): _storable(v) if isinstance(v, str) else v for k, v in metadata.items()}


def decode(data: bytes, kind: str, declared: str | None = None) -> str:
    """Decode text: a byte-order mark, else UTF-8, else the declared encoding, else a detected one."""
    text = _decode_bom(data, kind)
    if text is None:
        text = _decode_utf8(data)
    if text is None and declared:
        text = _decode_declared(data, declared)
    if text is None:
        text = _detect(data)
    sample = text[:65536] if text is not None else ""
    if text is None or len(_CONTROL.findall(sample)) > len(sample) / 10:
        known = next((name for magic, name in _MAGIC if data.startswith(magic)), None)
        if known:
            raise InvalidFile(f"Could not read this as {kind}: it is {known}; upload it with the right extension.")
        raise InvalidFile(
            f"Could not read this as {kind}: it is not a text file (it looks binary, or its encoding "
            "cannot be recognised)."
        )
    return text


def _decode_bom(data: bytes, kind: str) -> str | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise InvalidFile(f"Could not read this as {kind}: it is not valid {encoding}.") from exc
    return None


def _decode_utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _decode_declared(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        return None


def _detect(data: bytes) -> str | None:
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    # Short samples fit many code pages equally well; prefer Windows-1252, the commonest legacy one.
    for match in matches:
        if match.chaos <= best.chaos and "cp1252" in match.could_be_from_charset:
            return data.decode("cp1252")
    return str(best)


def parse_text(data: bytes) -> list[Section]:
    """Plain text or Markdown (markup kept): one section."""
    return [Section(decode(data, "text"))]


def parse_html(data: bytes) -> list[Section]:
    """HTML: the visible text, one line per block element, paragraphs separated by a blank line."""
    declared = EncodingDetector.find_declared_encoding(data[:4096], is_html=True)
    markup = decode(data, "HTML", declared)
    try:
        soup = BeautifulSoup(markup, "lxml")
    except Exception as exc:  # lxml and bs4 have no common error class
        raise InvalidFile("This HTML file could not be read.") from exc
    return [Section(html_text.visible_text(soup))]


def parse_pdf(data: bytes) -> list[Section]:
    """PDF: one section per page that has text, numbered from 1."""
    try:
        reader = PdfReader(io.BytesIO(data))
    except Exception as exc:  # pypdf raises many types on damaged files (PdfReadError, KeyError, ...)
        raise InvalidFile("This PDF file is damaged or is not a PDF.") from exc
    _decrypt(reader)
    sections = []
    try:
        for number, page in enumerate(reader.pages, start=1):
            sections.append(Section(page.extract_text() or "", page=number))
    except DependencyError as exc:  # AES needs the cryptography package, which ragstore does not install
        raise InvalidFile("This PDF file is encrypted in a way ragstore cannot open.") from exc
    except Exception as exc:
        raise InvalidFile(f"Page {len(sections) + 1} of this PDF file is damaged.") from exc
    if not any(s.text.strip() for s in sections):
        raise InvalidFile(
            "This PDF file contains no text: it has no text layer (a scanned PDF needs OCR, "
            "which ragstore does not do)."
        )
    return sections


def _decrypt(reader: PdfReader) -> None:
    """Open an encrypted PDF if it needs no password (owner-only protection); refuse it otherwise."""
    if not reader.is_encrypted:
        return
    try:
        opened = reader.decrypt("")
    except Exception as exc:  # e.g. AES without a crypto library
        raise InvalidFile("This PDF file is encrypted and cannot be opened.") from exc
    if not opened:
        raise InvalidFile("This PDF file is encrypted with a password; upload an unprotected copy.")


def parse_docx(data: bytes) -> list[Section]:
    """Word (.docx): paragraphs and tables in document order, headings marked with '#'."""
    zipguard.check_docx(data)
    try:
        document = docx.Document(io.BytesIO(data))
        levels = _heading_levels(document)
        blocks = [_docx_block(item, levels) for item in document.iter_inner_content()]
    except Exception as exc:  # python-docx raises zip, XML and key errors on damaged files
        raise InvalidFile("This .docx file is damaged or is not a Word document.") from exc
    return [Section("\n\n".join(block for block in blocks if block.strip()))]


def _heading_levels(document: Any) -> dict[str | None, int]:
    """Heading level by paragraph style id, None for the default style.

    Read once: python-docx's `paragraph.style` searches every style of the document for each paragraph.
    """
    styles = document.styles
    levels = {s.style_id: _heading_level(s.name or "") for s in styles if s.type == WD_STYLE_TYPE.PARAGRAPH}
    default = styles.default(WD_STYLE_TYPE.PARAGRAPH)
    levels[None] = _heading_level(default.name or "") if default is not None else 0
    return levels


def _docx_block(item: Any, levels: dict[str | None, int]) -> str:
    if isinstance(item, Table):
        return "\n".join(_docx_row(row) for row in item.rows)
    style_id = item._p.style  # an id that is not a paragraph style's means the default, as in python-docx
    level = levels.get(style_id, levels[None])
    return "#" * level + " " + item.text if level and item.text.strip() else item.text


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    if style.startswith("Heading"):
        digits = style.removeprefix("Heading").strip()
        return int(digits) if digits.isdigit() else 1
    return 0


def _docx_row(row: Any) -> str:
    cells: list[Any] = []
    for cell in row.cells:
        # A merged cell is listed once per grid column it spans.
        if not cells or cell._tc is not cells[-1]._tc:
            cells.append(cell)
    return " | ".join(" ".join(cell.text.split()) for cell in cells)


def parse_csv(data: bytes) -> list[Section]:
    """CSV: each data row as 'header: value; header: value', one line per row."""
    text = decode(data, "CSV")
    try:
        rows = csv_rows(text)
    except csv.Error as exc:
        raise InvalidFile(f"This CSV file could not be read: {exc}.") from exc
    if len(rows) == 1:
        raise InvalidFile("This CSV file has a header row but no data rows.")
    header = [cell.strip() or f"column {n}" for n, cell in enumerate(rows[0], start=1)] if rows else []
    return [Section("\n".join(_csv_line(header, row) for row in rows[1:]))]


def csv_rows(text: str, dialect: type[csv.Dialect] | str | None = None) -> list[list[str]]:
    """The CSV's non-empty rows, in the dialect given or sniffed. A cell may be as long as the text: the csv module's
    default limit of 128 KiB per cell (process-wide, hence raised here, before each read) refused long text cells."""
    csv.field_size_limit(max(len(text), csv.field_size_limit()))
    reader = csv.reader(io.StringIO(text, newline=""), dialect or sniff(text))
    return [row for row in reader if any(cell.strip() for cell in row)]


def sniff(text: str) -> type[csv.Dialect] | str:
    """The CSV dialect of the text's first 16 KiB (whole lines), else Excel's."""
    sample = text[:16384]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return "excel"


def _csv_line(header: list[str], row: list[str]) -> str:
    names = header + [f"column {n}" for n in range(len(header) + 1, len(row) + 1)]
    values = (" ".join(value.split()) for value in row)
    return "; ".join(f"{name}: {value}" for name, value in zip(names, values, strict=False) if value)


def parse_json(data: bytes) -> list[Section]:
    """JSON: a document, a list of them, or an object with the list under 'documents', 'data' or 'items'."""
    value = _load_json(decode(data, "JSON"), "JSON")
    if isinstance(value, dict) and not _text_field(value):
        inner = next((value[key] for key in _LIST_FIELDS if isinstance(value.get(key), list)), None)
        value = value if inner is None else inner
    items = value if isinstance(value, list) else [value]
    return [section for section in map(_json_section, items) if section is not None]


def parse_jsonl(data: bytes) -> list[Section]:
    """JSON Lines: one document (an object or a string) per non-empty line."""
    sections = []
    # Not splitlines(): U+2028 and friends may stand unescaped inside JSON strings.
    for number, line in enumerate(decode(data, "JSONL").split("\n"), start=1):
        if line.strip():
            section = _json_section(_load_json(line, "JSONL", number))
            if section is not None:
                sections.append(section)
    return sections


def _load_json(text: str, kind: str, line: int = 1) -> Any:
    """Load JSON text that starts on the given line of the file."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno + line - 1}, column {exc.colno}"
        raise InvalidFile(f"This {kind} file is not valid JSON: {exc.msg} ({where}).") from exc
    except ValueError as exc:  # Python refuses integers of more than 4300 digits
        raise InvalidFile(f"This {kind} file holds a number too long to read (line {line}).") from exc
    except RecursionError as exc:
        raise InvalidFile(f"This {kind} file is nested too deeply to read (line {line}).") from exc


def _json_section(item: Any) -> Section | None:
    """A string is a document's text; an object is a document; anything else is skipped."""
    if isinstance(item, str):
        return Section(item)
    if not isinstance(item, dict):
        return None
    key = _text_field(item)
    metadata = {k: v for k, v in item.items() if k != key and _is_scalar(v)}
    if isinstance(item.get("metadata"), dict):
        metadata |= {k: v for k, v in item["metadata"].items() if _is_scalar(v)}
    if key:
        return Section(item[key], metadata=metadata)
    lines = (f"{k}: {v}" for k, v in item.items() if _is_scalar(v) and str(v).strip())
    return Section("\n".join(lines), metadata=metadata)


def _text_field(document: dict[str, Any]) -> str | None:
    return next((k for k in _TEXT_FIELDS if isinstance(document.get(k), str) and document[k].strip()), None)


def _is_scalar(value: Any) -> bool:
    # NaN and infinities are valid to Python's json but not to JSON itself, so they could not be stored.
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str | int | bool)


PARSERS: Mapping[str, Callable[[bytes], list[Section]]] = {
    ".txt": parse_text,
    ".md": parse_text,
    ".markdown": parse_text,
    ".html": parse_html,
    ".htm": parse_html,
    ".pdf": parse_pdf,
    ".docx": parse_docx,
    ".csv": parse_csv,
    ".json": parse_json,
    ".jsonl": parse_jsonl,
}
SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(PARSERS)
