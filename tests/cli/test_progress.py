"""The CLI's progress bars: drawn on a terminal, silent elsewhere, moved as tqdm's are."""

from __future__ import annotations

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
