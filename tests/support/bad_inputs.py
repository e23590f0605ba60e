"""A corpus of bad inputs, generated here (nothing downloaded), each with what must become of it.

Every case either completes (its chunks must contain `expect`) or fails alone with the last_error code `error`
and a message containing `expect`.
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from dataclasses import dataclass

from tests.support.documents import docx_bytes, encrypted_pdf_bytes, pdf_bytes, scanned_pdf_bytes

MB = 1024 * 1024
GB = 1024 * MB
INVALID, UNSUPPORTED = "invalid_file", "unsupported_file"


@dataclass(frozen=True)
class BadInput:
    filename: str
    data: bytes
    error: str | None  # the last_error code it must fail with; None: it must complete
    expect: str  # in the error message if it fails, in its chunks' text if it completes
    what: str

    def __repr__(self) -> str:  # pytest shows cases by name, not by their megabytes
        return f"BadInput({self.filename!r}, {len(self.data):,} bytes)"


def corpus(huge_bytes: int = 50 * MB, bomb_bytes: int = 2 * GB) -> list[BadInput]:
    """Every bad input of the issue, and a few neighbours that must still work."""
    rng = random.Random(10)
    return [
        BadInput("corrupt.pdf", b"%PDF-1.7\n" + rng.randbytes(20_000), INVALID, "damaged or is not a PDF", "garbage"),
        BadInput(
            "truncated.pdf",
            truncated(pdf_bytes("The first page of a report.", "The second page, cut off."), 0.5),
            INVALID,
            "damaged",
            "a real PDF cut in half",
        ),
        BadInput(
            "encrypted.pdf",
            encrypted_pdf_bytes("Salaries of the board.", "s3cret"),
            INVALID,
            "encrypted with a password",
            "AES-256 with a user password",
        ),
        BadInput(
            "owner-locked.pdf",
            encrypted_pdf_bytes("Printing is allowed, editing is not.", ""),
            None,
            "Printing is allowed",
            "AES-256 with an owner password only: it opens",
        ),
        BadInput(
            "scanned.pdf",
            scanned_pdf_bytes("Invoice 2024-117: 3 chairs"),
            INVALID,
            "no text layer",
            "a page that is a picture",
        ),
        BadInput("bomb.docx", docx_bomb(bomb_bytes), INVALID, "zip bomb", f"{bomb_bytes / GB:.0f} GB unpacked"),
        BadInput("binary.txt", rng.randbytes(64 * 1024), INVALID, "not a text file", "random bytes named .txt"),
        BadInput(
            "nul.txt",
            b"Tea\x00 is served\x00\x00 at ten in the\x00 morning.\x00",
            None,
            "Tea is served at ten in the morning.",
            "NUL bytes inside text",
        ),
        BadInput("empty.txt", b"", INVALID, "contains no text", "an empty file"),
        BadInput("blank.md", b" \n\r\n\t \n", INVALID, "contains no text", "only whitespace"),
        BadInput("huge.txt", single_line(huge_bytes), INVALID, "more than 2,000,000 tokens", "a single line"),
        BadInput(
            "report.txt",
            pdf_bytes("A PDF named .txt."),
            INVALID,
            "is a PDF document",
            "a PDF with the wrong extension",
        ),
        BadInput(
            "notes.pdf",
            b"Plain notes, saved with the wrong extension.",
            INVALID,
            "not a PDF",
            "text with a PDF's extension",
        ),
        BadInput("setup.exe", b"MZ\x90\x00\x03" + bytes(200), UNSUPPORTED, "Files of type .exe", "an executable"),
        BadInput("Makefile", b"all:\n\techo hello\n", UNSUPPORTED, "without an extension", "no extension"),
        BadInput(
            "utf16.txt",
            "Naïve café ☃: the snowman stays outside.".encode("utf-16"),
            None,
            "Naïve café ☃",
            "UTF-16 with a byte-order mark",
        ),
        BadInput(
            "utf16le.txt",
            "Grüße aus Köln, bis bald.".encode("utf-16-le"),
            None,
            "Grüße aus Köln",
            "UTF-16 without a byte-order mark",
        ),
        BadInput(
            "latin1.txt",
            "Crème brûlée à la française, servie froide.".encode("latin-1"),
            None,
            "Crème brûlée à la française",
            "Latin-1",
        ),
        BadInput("deep.json", b"[" * 100_000 + b"]" * 100_000, INVALID, "nested too deeply", "100,000 levels"),
        BadInput(
            "deep.html",
            b"<html><body>" + b"<div>" * 100_000 + b"The innermost words." + b"</div>" * 100_000 + b"</body></html>",
            None,
            "The innermost words.",
            "100,000 nested elements",
        ),
        BadInput(
            "nested.json",
            json.dumps({"text": "The text of a nested document.", "tree": nested(500)}).encode(),
            None,
            "The text of a nested document.",
            "500 levels under a text field",
        ),
        BadInput(
            "ragged.csv",
            b"city,country,population\nParis,France,2100000\n\nBerlin,,3600000,capital,extra\nRome\n",
            None,
            "city: Berlin; population: 3600000; column 4: capital; column 5: extra\ncity: Rome",
            "rows of 1 to 5 cells and a blank line",
        ),
    ]


def truncated(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def single_line(size: int) -> bytes:
    """size bytes of English-like words on one line, without a line end: a varied block of about 1 MB, repeated."""
    words = ("policy", "employee", "manager", "office", "travel", "budget", "report", "meeting", "project", "invoice")
    block = " ".join(random.Random(50).choices(words, k=MB // 7)).encode() + b" "
    return (block * (size // len(block) + 1))[: size - 1] + b"."


def docx_bomb(unpacked: int) -> bytes:
    """A real .docx whose word/document.xml unpacks to `unpacked` bytes of valid paragraphs.

    Written through zipfile in 1 MiB pieces, so making it needs no more memory than its compressed size.
    """
    with zipfile.ZipFile(io.BytesIO(docx_bytes())) as real:
        parts = {info.filename: real.read(info) for info in real.infolist() if info.filename != "word/document.xml"}
    head = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    )
    tail = b"</w:body></w:document>"
    paragraph = b"<w:p><w:r><w:t>ha</w:t></w:r></w:p>"
    piece = paragraph * (MB // len(paragraph))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as bomb:
        for name, data in parts.items():
            bomb.writestr(name, data)
        with bomb.open("word/document.xml", "w", force_zip64=True) as document:
            document.write(head)
            for _ in range(max(1, (unpacked - len(head) - len(tail)) // len(piece))):
                document.write(piece)
            document.write(tail)
    return out.getvalue()
