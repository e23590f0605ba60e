"""Real documents of every supported type, built with their own libraries, each with a paraphrased question."""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass

import docx
from fpdf import FPDF
from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter


@dataclass(frozen=True)
class Document:
    filename: str
    data: bytes
    question: str  # a paraphrase: shares few words with the passage
    passage: str  # words the best chunk must contain
    page: int | None = None


def pdf_bytes(*pages: str) -> bytes:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def encrypted_pdf_bytes(text: str, user_password: str) -> bytes:
    """A PDF encrypted with AES-256; an empty user password opens it (owner-only protection), another does not."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(text))))
    writer.encrypt(user_password, owner_password="owner", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def scanned_pdf_bytes(text: str) -> bytes:
    """A PDF whose page is a picture of the text, as a scanner makes it: no text layer."""
    image = Image.new("L", (800, 200), color=255)
    ImageDraw.Draw(image).text((20, 80), text, fill=0)
    pdf = FPDF()
    pdf.add_page()
    pdf.image(image, x=10, y=10, w=190)
    return bytes(pdf.output())


def docx_bytes() -> bytes:
    document = docx.Document()
    document.add_heading("Remote work policy", level=1)
    document.add_paragraph("Staff may work from home up to three days per week once their manager approves it.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Equipment", "Provided"
    table.cell(1, 0).text, table.cell(1, 1).text = "Monitor", "Yes"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def csv_bytes() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["office", "address", "opening hours"])
    writer.writerow(["Lisbon", "Rua Augusta 12", "opens at 8:30 and closes at 18:00"])
    writer.writerow(["Oslo", "Karl Johans gate 5", "opens at 9:00 and closes at 16:00"])
    return out.getvalue().encode()


def corpus() -> list[Document]:
    """One document of each supported type."""
    return [
        Document(
            "coffee.txt",
            b"The office coffee machine is descaled every Friday afternoon by the facilities team.",
            "who cleans the espresso maker, and how often?",
            "coffee machine is descaled",
        ),
        Document(
            "account.md",
            b"# Account help\n\nTo reset your password, open Settings, choose Security and click "
            b"'Forgot password'. A link valid for 30 minutes is e-mailed to you.\n",
            "I forgot my login credentials, how do I get back into my account?",
            "reset your password",
        ),
        Document(
            "parking.html",
            b"<html><head><title>Parking</title><style>.x{color:red}</style>"
            b"<script>var secret='do not index';</script></head><body><h1>Parking</h1>"
            b"<p>Employees may leave their cars in garage level B2; visitors use level B1.</p></body></html>",
            "where are staff allowed to park their vehicles?",
            "garage level B2",
        ),
        Document(
            "expenses.pdf",
            pdf_bytes(
                "Finance handbook. This handbook describes the finance department and its people.",
                "Expense reports must be submitted within 30 days, with the original receipts attached.",
            ),
            "what is the deadline to claim reimbursement for business costs?",
            "Expense reports",
            page=2,
        ),
        Document("remote.docx", docx_bytes(), "how many days a week can I telecommute?", "work from home"),
        Document("offices.csv", csv_bytes(), "what time does the Lisbon branch open in the morning?", "Lisbon"),
        Document(
            "gym.json",
            json.dumps(
                [
                    {
                        "text": "The company gym is open day and night and is free for every employee.",
                        "category": "benefits",
                        "nested": {"dropped": True},
                    }
                ]
            ).encode(),
            "is there a fitness centre I can use late in the evening?",
            "company gym",
        ),
        Document(
            "laptops.jsonl",
            b'{"content": "Laptops are replaced every three years; ask for a new one on the IT portal.", '
            b'"team": "it"}\n',
            "when will I get a new notebook computer?",
            "Laptops are replaced",
        ),
    ]


def long_text(seed: int, words: int) -> bytes:
    """A long, varied English text: many chunks, for tests that need work to take a while."""
    rng = random.Random(seed)
    vocabulary = [
        "policy",
        "employee",
        "manager",
        "office",
        "travel",
        "budget",
        "report",
        "meeting",
        "project",
        "customer",
        "invoice",
        "contract",
        "schedule",
        "training",
        "safety",
        "holiday",
        "benefit",
        "laptop",
        "network",
        "security",
        "review",
    ]
    sentences = []
    while sum(len(s.split()) for s in sentences) < words:
        sentences.append(" ".join(rng.choice(vocabulary) for _ in range(rng.randint(6, 16))).capitalize() + ".")
    return " ".join(sentences).encode()
