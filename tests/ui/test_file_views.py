"""Files: a store's files with their actions (retry, download, detach), a file's chunks in order with page numbers,
and the tenant's files, including those that outlived their store, which can be deleted."""

from __future__ import annotations

import io
from pathlib import Path

from playwright.sync_api import expect

from tests.support.documents import pdf_bytes

HOLIDAYS = "Employees receive 25 days of paid vacation per year. Unused days can be carried over until March 31."


def test_store_files_actions_chunks_with_pages_and_files_in_no_store(start_server, open_ui):
    server = start_server(workers=0)
    client = server.client()
    store = client.vector_stores.create(name="handbook")
    old = client.vector_stores.create(name="old")
    upload = lambda name, data: client.files.create(file=(name, io.BytesIO(data)), purpose="assistants")  # noqa: E731
    guide = upload("guide.pdf", pdf_bytes("Chapter one is about parking.", "Chapter two is about lunch."))
    broken = upload("broken.txt", bytes(range(256)) * 8)
    leftover = upload("leftover.txt", HOLIDAYS.encode())
    for file in (guide, broken):
        client.vector_stores.files.create(vector_store_id=store.id, file_id=file.id)
    client.vector_stores.files.create(vector_store_id=old.id, file_id=leftover.id)
    ui = open_ui(server)
    ui.drain()
    client.vector_stores.delete(old.id)  # its file stays, in no store

    page = ui.open(f"#/stores/{store.id}")
    rows = page.get_by_role("table", name="Files of this vector store").locator("tbody tr")
    failed = rows.filter(has_text="broken.txt")
    for cell in (failed.locator("code"), failed.locator("time")):  # ids and dates on one line at 1280 px
        assert cell.evaluate("element => element.getClientRects().length") == 1
    expect(failed).to_contain_text("failed")
    failed.get_by_role("button", name="Retry broken.txt").click()
    expect(failed).to_contain_text("in progress")  # attached again, waiting for a worker
    ui.drain()
    page.reload()
    expect(rows.filter(has_text="broken.txt")).to_contain_text("invalid_file")

    rows.filter(has_text="guide.pdf").get_by_role("link", name="guide.pdf").click()
    expect(page.get_by_role("heading", name="guide.pdf", level=1)).to_be_visible()
    chunks = page.locator(".chunk")
    expect(chunks).to_have_count(2)
    expect(chunks.first).to_contain_text("Chunk 1 · page 1")
    expect(chunks.first).to_contain_text("Chapter one is about parking.")
    expect(chunks.nth(1)).to_contain_text("Chunk 2 · page 2")
    expect(page.get_by_role("region", name="Details")).to_contain_text("completed")
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download guide.pdf").click()
    download = downloading.value
    assert download.suggested_filename == "guide.pdf"
    assert Path(download.path()).read_bytes() == client.files.content(guide.id).read()
    ui.screenshot("file-chunks")

    page.goto(f"{server.url}/ui/#/stores/{store.id}/files/{guide.id}?chunk=1")  # a hit opened in its context
    expect(page.locator(".chunk.current")).to_contain_text("Chapter two is about lunch.")
    expect(page.locator(".chunk.current")).to_have_attribute("aria-current", "true")

    page.get_by_role("button", name="Detach guide.pdf").click()
    page.get_by_role("dialog").get_by_role("button", name="Detach file").click()
    expect(page.get_by_role("heading", name="handbook", level=1)).to_be_visible()
    expect(rows).to_have_count(1)
    assert client.files.retrieve(guide.id).id == guide.id  # detached, not deleted

    page.get_by_role("link", name="Files", exact=True).click()
    files = page.get_by_role("table", name="Files").locator("tbody tr")
    expect(files).to_have_count(3)
    expect(files.filter(has_text="broken.txt")).to_contain_text("handbook (failed)")
    page.get_by_label("Only files in no vector store").check()
    expect(files).to_have_count(2)  # guide.pdf, detached, and leftover.txt, whose store is gone
    expect(files.filter(has_text="leftover.txt")).to_contain_text("in no store")
    ui.screenshot("files")
    files.filter(has_text="leftover.txt").get_by_role("button", name="Delete leftover.txt").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete file").click()
    expect(files).to_have_count(1)
    assert sorted(f.filename for f in client.files.list()) == ["broken.txt", "guide.pdf"]
