"""Zip bombs: an archive's declared sizes are checked before anything in it is unpacked.

python-docx reads every part of a .docx into memory and parses its XML parts (about seven times their size in
memory), so a small file whose parts unpack to gigabytes would take the worker down. zipfile never unpacks more than
a member's declared size (a member that lies about it fails its CRC check instead), so the declared sizes bound
the memory, and are known from the central directory alone.
"""

from __future__ import annotations

import io
import zipfile

from ragstore.errors import InvalidFile

MB = 1024 * 1024
MAX_UNPACKED = 256 * MB  # every part, as python-docx reads them all
MAX_XML = 64 * MB  # the XML parts, which it also parses
BOMB_RATIO = 100  # unpacked to packed, past which a part is called a zip bomb (Apache POI's threshold)


def check_docx(data: bytes) -> None:
    """Refuse a .docx whose parts would unpack to more than ragstore reads, before they are unpacked."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except Exception as exc:  # zipfile raises BadZipFile, EOFError, ValueError, ... on damaged files
        raise InvalidFile("This .docx file is damaged or is not a Word document.") from exc
    unpacked = sum(m.file_size for m in members)
    xml = sum(m.file_size for m in members if m.filename.endswith((".xml", ".rels")))
    if unpacked <= MAX_UNPACKED and xml <= MAX_XML:
        return
    worst = max(members, key=_ratio)
    if _ratio(worst) > BOMB_RATIO:
        raise InvalidFile(
            f"This .docx file looks like a zip bomb: its part {worst.filename} would unpack from "
            f"{_size(worst.compress_size)} to {_size(worst.file_size)} ({_ratio(worst):,.0f} times). "
            f"ragstore unpacks at most {_size(MAX_UNPACKED)} of a Word document."
        )
    raise InvalidFile(
        f"This .docx file is too large to read: it unpacks to {_size(unpacked)}, {_size(xml)} of it XML. "
        f"ragstore reads Word documents of up to {_size(MAX_UNPACKED)} unpacked, {_size(MAX_XML)} of it XML; "
        "split it into smaller documents."
    )


def _ratio(member: zipfile.ZipInfo) -> float:
    return member.file_size / max(1, member.compress_size)


def _size(count: int) -> str:
    """Bytes as KB, MB or GB, with one decimal unless it is 0 (8 MB, 9.4 MB)."""
    value, unit = next((count / size, unit) for size, unit in _UNITS if count >= size or unit == "KB")
    return f"{value:.1f}".removesuffix(".0") + " " + unit


_UNITS = ((1024 * MB, "GB"), (MB, "MB"), (1024, "KB"))
