"""The CLI's progress bars: drawn on a terminal, silent elsewhere, moved as tqdm's are."""

from __future__ import annotations

import logging
import sys

from ragstore.cli import progress


def test_a_bar_is_drawn_on_a_terminal(capsys, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich takes stderr for a terminal
    for _ in progress.bar(["a.txt", "b.md", "c.pdf"], desc="upload", unit="file"):
        pass
    with progress.bar(desc="copy", total=10, unit="row") as shown:
        shown.update(4)
        shown.total = 8  # as float16 learns the count it copies
        shown.update(8 - shown.n)
    err = capsys.readouterr().err
    assert "upload" in err and "3/3" in err and "files" in err
    assert "copy" in err and "8/8" in err and shown.n == 8


def test_nothing_is_drawn_elsewhere(capsys, monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    with progress.bar(desc="files", total=2048, unit="B", unit_scale=True) as shown:
        shown.update(1024)
        shown.update(1024)
    assert shown.n == 2048
    assert capsys.readouterr() == ("", "")


def test_a_log_line_lands_above_the_bar_not_through_it(capsys, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    terminal = sys.stderr
    handler = logging.StreamHandler(terminal)  # as logs.configure makes it, on the terminal's stream
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with progress.bar(desc="ingest", total=2, unit="file") as shown:
            logging.getLogger("pypdf").warning("Ignoring wrong pointing object 7")
            assert handler.stream is sys.stderr is not terminal  # rich's redirect, which clears the bar's line first
            shown.update(2)
        assert handler.stream is terminal  # given back when the bar is done
    finally:
        root.removeHandler(handler)
    err = capsys.readouterr().err
    assert "\x1b[2KIgnoring wrong pointing object 7" in err  # line cleared, then the record
