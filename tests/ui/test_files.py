"""A store's page: files uploaded by picker and by drag and drop, batches (the store's, made anywhere) followed live,
cancelled, files by status."""

from __future__ import annotations

from playwright.sync_api import expect

HOLIDAYS = "Employees receive 25 days of paid vacation per year. Unused days can be carried over until March 31."
ACCOUNT = "# Account help\n\nTo reset your password, open Settings, choose Security and click Forgot password."


def file_rows(page):
    return page.get_by_role("table", name="Files of this vector store").locator("tbody tr")


def test_upload_watch_a_batch_complete_cancel_another_and_filter_files(start_server, open_ui, tmp_path):
    server = start_server(workers=0)  # files wait until the test drains the queue: no race with the cancel
    client = server.client()
    store = client.vector_stores.create(name="handbook")
    ui = open_ui(server)
    page = ui.open(f"#/stores/{store.id}")
    expect(page.get_by_role("heading", name="handbook", level=1)).to_be_visible()

    (tmp_path / "holidays.txt").write_text(HOLIDAYS)
    (tmp_path / "account.md").write_text(ACCOUNT)
    (tmp_path / "broken.txt").write_bytes(bytes(range(256)) * 8)
    upload = page.get_by_role("form", name="Add files")
    upload.get_by_label("Choose files").set_input_files(
        [tmp_path / "holidays.txt", tmp_path / "account.md", tmp_path / "broken.txt"]
    )
    expect(upload).to_contain_text("3 file(s) chosen: holidays.txt, account.md, broken.txt")
    upload.get_by_role("button", name="Add attribute").click()
    upload.get_by_label("Key").fill("category")
    upload.get_by_label("Value").fill("hr")
    upload.get_by_role("button", name="Upload and add to store").click()

    first = page.get_by_role("article").first
    expect(first).to_contain_text("0 of 3 files processed: 0 completed, 0 failed, 0 cancelled, 3 in progress")
    expect(first.locator(".counts")).to_have_attribute("aria-live", "polite")
    expect(file_rows(page)).to_have_count(3)
    ui.drain()
    # No reload: the page polls the batch and redraws it, the files and the store's counts.
    expect(first).to_contain_text("3 of 3 files processed: 2 completed, 1 failed, 0 cancelled, 0 in progress")
    expect(first.get_by_role("progressbar")).to_have_attribute("value", "3")
    expect(first.get_by_role("button", name="Cancel batch")).to_be_hidden()
    expect(page.get_by_role("region", name="Details")).to_contain_text("2 completed, 0 in progress, 1 failed")

    page.get_by_label("Status").select_option(label="Failed")
    expect(file_rows(page)).to_have_count(1)
    expect(file_rows(page)).to_contain_text("broken.txt")
    expect(file_rows(page)).to_contain_text("invalid_file")
    page.get_by_label("Status").select_option(label="Completed")
    expect(file_rows(page)).to_have_count(2)
    expect(file_rows(page).first).to_contain_text("category: hr")

    dropped = page.evaluate_handle(
        """(files) => {
            const data = new DataTransfer();
            for (const [name, text] of files) data.items.add(new File([text], name, { type: "text/plain" }));
            return data;
        }""",
        [["expenses.txt", "Expense reports are due within 30 days."], ["travel.txt", "Book trains over planes."]],
    )
    page.get_by_role("group", name="Drag and drop files here").dispatch_event("drop", {"dataTransfer": dropped})
    expect(upload).to_contain_text("2 file(s) chosen: expenses.txt, travel.txt")
    upload.get_by_role("button", name="Upload and add to store").click()
    second = page.get_by_role("article").first
    expect(second).to_contain_text("0 of 2 files processed: 0 completed, 0 failed, 0 cancelled, 2 in progress")
    expect(page.get_by_role("article")).to_have_count(2)
    second.get_by_role("button", name="Cancel batch").click()
    expect(second).to_contain_text("2 of 2 files processed: 0 completed, 0 failed, 2 cancelled, 0 in progress")
    expect(second).to_contain_text("cancelled")
    ui.drain()  # the cancelled files' jobs find nothing to do

    page.get_by_label("Status").select_option(label="Cancelled")
    expect(file_rows(page)).to_have_count(2)
    for name in ("expenses.txt", "travel.txt"):  # uploaded in parallel: in either order
        expect(file_rows(page).filter(has_text=name)).to_have_count(1)
    counts = client.vector_stores.retrieve(store.id).file_counts
    assert (counts.completed, counts.failed, counts.cancelled, counts.in_progress) == (2, 1, 2, 0)

    # A batch made elsewhere (here through the SDK): the page lists the store's batches from the server.
    notes = client.files.create(file=("notes.txt", b"Meeting notes: the office closes at six."), purpose="assistants")
    elsewhere = client.vector_stores.file_batches.create(vector_store_id=store.id, file_ids=[notes.id])
    page.reload()
    expect(page.get_by_role("article")).to_have_count(3)
    newest = page.get_by_role("article").first
    expect(newest).to_contain_text(elsewhere.id)
    expect(newest).to_contain_text("0 of 1 files processed: 0 completed, 0 failed, 0 cancelled, 1 in progress")
    expect(page.get_by_role("article").last).to_contain_text("2 completed, 1 failed")
    ui.drain()
    expect(newest).to_contain_text("1 of 1 files processed: 1 completed")  # followed live, as the page's own
    page.get_by_label("Status").select_option(label="Any status")
    expect(file_rows(page)).to_have_count(6)
    ui.screenshot("store")
