"""The visible text of an HTML document: one line per block element, paragraphs separated by a blank line.

The tree is read in one walk with a stack of its own, in time linear in its size however deeply it is nested:
changing the tree instead (bs4's insertions walk to a tag's last descendant) took minutes for a 1 MB file of
nested <div>s, and recursion would stop at Python's limit.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from bs4.element import CData, NavigableString, PreformattedString, Tag

INVISIBLE = {"script", "style", "noscript", "template"}
LINE_TAGS = {"div", "li", "tr", "dt", "dd", "caption", "figcaption", "summary", "legend", "option"}
PARAGRAPH_TAGS = {
    "title", "p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "table", "ul", "ol", "dl", "hr",
    "section", "article", "header", "footer", "main", "nav", "aside", "form", "address", "figure", "details",
}  # fmt: skip
CELLS = {"td", "th"}
_PARAGRAPH_BREAK = "\ue000"  # a private-use character, standing on its own line for a blank line
_MARKS = {name: "\n" for name in LINE_TAGS} | {name: f"\n{_PARAGRAPH_BREAK}\n" for name in PARAGRAPH_TAGS}
_SPACES = re.compile(r"\s+")
_PRE_END = object()


def visible_text(soup: BeautifulSoup) -> str:
    """The text a reader sees: scripts, styles, comments and hidden elements left out, source whitespace
    collapsed outside <pre>, ' | ' between table cells; a <title> the first <h1> repeats is given once."""
    repeated = _repeated_title(soup)
    parts: list[str] = []
    todo: list[object] = [soup]
    in_pre = 0
    while todo:
        item = todo.pop()
        if item is _PRE_END:
            in_pre -= 1
        elif isinstance(item, NavigableString):
            # Comments and the doctype are preformatted strings, not shown; CDATA is.
            if isinstance(item, CData) or not isinstance(item, PreformattedString):
                parts.append(str(item) if in_pre else _SPACES.sub(" ", item))
        elif isinstance(item, str):
            parts.append(item)  # a break or a cell separator of ours
        elif isinstance(item, Tag) and _shown(item) and item is not repeated:
            if item.name == "br":
                parts.append("\n")
                continue
            mark = _MARKS.get(item.name, "")
            parts.append(mark)
            todo.append(mark)
            if item.name == "pre":
                in_pre += 1
                todo.append(_PRE_END)
            todo.extend(reversed(_separated(item.contents)))
    return _join_lines("".join(parts))


def _repeated_title(soup: BeautifulSoup) -> Tag | None:
    """The <title> when the first <h1> says the same (case and spacing aside): "Parking", not "Parking Parking"."""
    title, heading = soup.find("title"), soup.find("h1")
    if not isinstance(title, Tag) or not isinstance(heading, Tag) or not _shown(heading):
        return None
    same = (
        _SPACES.sub(" ", title.get_text()).strip().casefold() == _SPACES.sub(" ", heading.get_text()).strip().casefold()
    )
    return title if same else None


def _shown(tag: Tag) -> bool:
    return tag.name not in INVISIBLE and not tag.has_attr("hidden")


def _separated(children: list) -> list:
    """The children, with ' | ' before each table cell that follows another."""
    out: list = []
    after_cell = False
    for child in children:
        if isinstance(child, Tag) and child.name in CELLS and _shown(child):
            if after_cell:
                out.append(" | ")
            after_cell = True
        out.append(child)
    return out


def _join_lines(text: str) -> str:
    lines: list[str] = []
    blank = False
    for line in (line.strip() for line in text.split("\n")):
        if line == _PARAGRAPH_BREAK:
            blank = bool(lines)
        elif line:
            if blank:
                lines.append("")
            lines.append(line)
            blank = False
    return "\n".join(lines)
