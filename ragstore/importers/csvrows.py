"""CSV: each row becomes one chunk (a file of its own, named after the CSV and the row), its columns filterable
attributes. Numbers become numbers (so `gt`/`lte` filters compare them as such), true/false booleans; a decimal
comma is read as a decimal point when the CSV is not comma-separated.

A row is keyed by the value of --id-column when given (then the CSV may move, or be exported again, and its rows are
still recognised), else by the CSV's path and the row's number.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ragstore.errors import InvalidRequest
from ragstore.importers.common import Progress, Record, Report, Scalar, clean_attributes, storable
from ragstore.importers.records import Destination, write_records
from ragstore.ingest import parse

_TEXT_COLUMNS = ("text", "content")
_INTEGER = re.compile(r"-?(?:0|[1-9]\d{0,17})")
_DECIMAL = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_DECIMAL_COMMA = re.compile(r"-?(?:0|[1-9]\d*),\d+")


@dataclass(frozen=True)
class Table:
    """A CSV read whole: its header, its non-empty rows, and whether a decimal comma is possible."""

    header: list[str]
    rows: list[list[str]]
    comma_decimals: bool


@dataclass(frozen=True)
class Columns:
    """Which columns make a row's text, attributes and key."""

    text: str | None = None  # None: every column, "name: value; ..."
    attributes: list[str] | None = None  # None: every column but the text one
    key: str | None = None  # None: the row's number


def import_csv(
    target: Destination,
    path: Path,
    options: Columns,
    report: Report,
    progress: Progress,
) -> None:
    """Import each row of the CSV at path as one chunk; options name columns (None: the defaults)."""
    table = read_table(path)
    columns = choose_columns(table.header, options)
    prefix = f"csv:{path.name}:" if columns.key else f"csv:{path.resolve()}#"
    progress.start(f"csv {path.name}", len(table.rows))
    records = _records(path, table, columns, prefix, report, progress)
    write_records(target, records, prefix, report, progress)


def choose_columns(header: list[str], options: Columns) -> Columns:
    """The columns asked for, each checked, with defaults: a column named text or content (any case) as the text,
    all the others as attributes."""
    text = options.text or next((name for name in header if name.strip().lower() in _TEXT_COLUMNS), None)
    attributes = options.attributes if options.attributes is not None else [name for name in header if name != text]
    named = [options.text, options.key, *attributes]
    missing = [name for name in named if name is not None and name not in header]
    if missing:
        raise InvalidRequest(
            f"The CSV has no column {', '.join(map(repr, missing))}; its columns are: {', '.join(header)}."
        )
    return Columns(text, attributes, options.key)


def read_table(path: Path) -> Table:
    """The CSV's header and non-empty rows (its encoding and delimiter detected)."""
    if not path.is_file():
        raise InvalidRequest(f"{path} is not a file.")
    try:
        text = parse.decode(path.read_bytes(), "CSV")
    except OSError as exc:
        raise InvalidRequest(f"Could not read {path}: {exc.strerror}.") from exc
    dialect = parse.sniff(text)
    try:
        rows = parse.csv_rows(text, dialect)
    except csv.Error as exc:
        raise InvalidRequest(f"{path} could not be read as CSV: {exc}.") from exc
    if not rows:
        raise InvalidRequest(f"{path} is empty.")
    header: list[str] = []
    for number, cell in enumerate(rows[0], start=1):
        name = cell.strip() or f"column {number}"
        header.append(name if name not in header else f"{name} {number}")
    delimiter = dialect if isinstance(dialect, str) else dialect.delimiter
    return Table(header, rows[1:], comma_decimals=delimiter not in (",", "excel"))


def typed(value: str, comma_decimals: bool) -> Scalar:
    """A cell as a JSON value: an integer, a number, a boolean, else the string itself."""
    cell = value.strip()
    if _INTEGER.fullmatch(cell):
        return int(cell)
    if comma_decimals and _DECIMAL_COMMA.fullmatch(cell):
        cell = cell.replace(",", ".")
    if _DECIMAL.fullmatch(cell):
        number = float(cell)
        return number if math.isfinite(number) else cell
    if cell.lower() in ("true", "false"):
        return cell.lower() == "true"
    return cell


def _records(
    path: Path, table: Table, columns: Columns, prefix: str, report: Report, progress: Progress
) -> Iterator[Record]:
    for number, row in enumerate(table.rows, start=1):
        cells = dict(zip(table.header, (cell.strip() for cell in row), strict=False))
        if columns.text:
            text = cells.get(columns.text, "")
        else:
            text = "; ".join(f"{name}: {' '.join(value.split())}" for name, value in cells.items() if value)
        attributes = {
            name: typed(cells[name], table.comma_decimals) for name in columns.attributes or [] if cells.get(name)
        }
        name = f"{path.name} row {number}.txt"
        key = cells.get(columns.key, "") if columns.key else str(number)
        if not key:
            report.fail(name, f"no value in the id column '{columns.key}'")
            progress.advance()
            continue
        yield Record(prefix + key, name, storable(text), clean_attributes(attributes, report.warnings))
