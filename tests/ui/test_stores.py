"""The vector stores view: the API key, statistics, create, sort, page, rename and delete."""

from __future__ import annotations

import openai
import pytest
from playwright.sync_api import expect


def store_names(page):
    return page.get_by_role("table", name="Vector stores").get_by_role("link")


def test_without_a_key_the_api_error_message_is_shown(start_server, open_ui):
    ui = open_ui(start_server())
    page = ui.open(key=None)
    expect(page.get_by_role("alert")).to_contain_text("You didn't provide an API key")
    page.get_by_label("API key").fill("sk-wrong")
    page.get_by_role("button", name="Use key").click()
    expect(page.get_by_role("alert")).to_contain_text("Incorrect API key provided.")
    ui.open()  # the right key
    expect(page.get_by_role("alert")).to_be_hidden()
    expect(page.get_by_text("No vector stores yet.")).to_be_visible()


def test_create_sort_page_rename_and_delete(start_server, open_ui, tmp_path):
    server = start_server(workers=0)  # nothing is ingested: last activity changes only by what the test does
    client = server.client()
    ui = open_ui(server)
    page = ui.open()

    page.get_by_text("New vector store").click()
    form = page.get_by_role("form", name="New vector store")
    form.get_by_label("Name").fill("handbook")
    form.get_by_role("button", name="Add metadata").click()
    form.get_by_label("Key").fill("team")
    form.get_by_label("Value").fill("hr")
    form.get_by_label("Expires after (days of inactivity)").fill("7")
    (tmp_path / "holidays.txt").write_text("Employees receive 25 days of paid vacation per year.")
    form.get_by_label("Files (optional)").set_input_files(tmp_path / "holidays.txt")
    form.get_by_label("Static: sizes of my choice").check()
    form.get_by_label("Max tokens per chunk").fill("200")
    form.get_by_label("Overlap tokens").fill("50")
    form.get_by_role("button", name="Create vector store").click()
    expect(store_names(page)).to_have_text(["handbook"])
    expect(form).to_be_hidden()  # the form closes once the store is made
    dates = page.get_by_role("table", name="Vector stores").locator("time")
    assert dates.first.evaluate("time => time.getClientRects().length") == 1  # one line at 1280 px, not wrapped

    (created,) = client.vector_stores.list().data
    assert (created.metadata, created.expires_after.days, created.file_counts.total) == ({"team": "hr"}, 7, 1)
    (attached,) = client.vector_stores.files.list(vector_store_id=created.id).data
    assert attached.chunking_strategy.static.max_chunk_size_tokens == 200
    assert attached.chunking_strategy.static.chunk_overlap_tokens == 50

    later = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]
    for name in later:
        client.vector_stores.create(name=name)
    page.reload()
    expect(store_names(page)).to_have_text([*later[::-1], "handbook"])
    page.get_by_role("button", name="Rename alpha").click()
    page.get_by_role("dialog").get_by_label("New name").fill("alpha renamed")
    page.get_by_role("dialog").get_by_role("button", name="Save").click()
    renamed = ["alpha renamed", *later[1:]]
    expect(store_names(page)).to_have_text([*renamed[::-1], "handbook"])
    page.get_by_label("Sort by").select_option(label="Last activity")
    expect(store_names(page)).to_have_text(["alpha renamed", *later[:0:-1], "handbook"])
    page.get_by_label("Order").select_option(label="Oldest first")
    by_activity = ["handbook", *later[1:], "alpha renamed"]
    expect(store_names(page)).to_have_text(by_activity)

    page.get_by_label("Per page").select_option("5")
    expect(store_names(page)).to_have_text(by_activity[:5])
    page.get_by_role("button", name="Next page").click()
    expect(store_names(page)).to_have_text(by_activity[5:])
    expect(page.get_by_role("button", name="Next page")).to_be_disabled()
    page.get_by_role("button", name="Previous page").click()
    expect(store_names(page)).to_have_text(by_activity[:5])

    gamma = next(s for s in client.vector_stores.list().data if s.name == "gamma")
    page.get_by_label("Per page").select_option("20")
    page.get_by_role("button", name="Delete gamma").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(store_names(page)).to_have_count(7)
    page.get_by_role("button", name="Delete gamma").click()
    expect(page.get_by_role("dialog")).to_contain_text("Delete “gamma” and its chunks?")
    page.get_by_role("dialog").get_by_role("button", name="Delete vector store").click()
    expect(store_names(page)).to_have_text([name for name in by_activity if name != "gamma"])
    with pytest.raises(openai.NotFoundError):
        client.vector_stores.retrieve(gamma.id)

    stats = page.get_by_role("region", name="Statistics")
    expect(stats.get_by_role("definition").first).to_have_text("6")  # vector stores
    expect(stats).to_contain_text("Files in progress1")
    ui.screenshot("stores")


def test_a_phone_sized_screen_and_the_keyboard_alone(start_server, open_ui):
    server = start_server(workers=0)
    store = server.client().vector_stores.create(name="a store with a rather long name, to wrap", metadata={"k": "v"})
    ui = open_ui(server, viewport={"width": 375, "height": 740})
    page = ui.open()
    expect(page.get_by_role("link", name="a store with a rather long name, to wrap")).to_be_visible()
    assert ui.fits_width()

    page.get_by_text("New vector store").focus()
    page.keyboard.press("Enter")  # opens the <details>
    page.get_by_role("form", name="New vector store").get_by_label("Name").focus()
    page.keyboard.type("typed")
    page.keyboard.press("Enter")  # submits
    expect(page.get_by_role("link", name="typed")).to_be_visible()

    sort = page.get_by_label("Sort by")
    sort.focus()
    page.keyboard.press("ArrowDown")
    expect(sort).to_have_value("last_active_at")
    expect(page.locator("[aria-busy]")).to_have_count(0)  # the list in the new order has been drawn
    expect(store_names(page).first).to_have_text("typed")
    expect(sort).to_be_focused()  # the list is redrawn under it, the control stays

    delete = page.get_by_role("button", name="Delete typed")
    delete.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()  # the safe choice first
    # A load that lands while the dialog is open redraws the list beneath it: Escape still returns to "Delete typed".
    sort.evaluate("select => { select.value = 'created_at'; select.dispatchEvent(new Event('change')); }")
    expect(page.locator("[aria-busy]")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(delete).to_be_focused()  # back where the user was
    expect(page.get_by_role("link", name="typed")).to_be_visible()

    views = {
        f"#/stores/{store.id}": page.get_by_role("heading", name=store.name),
        "#/search": page.get_by_role("checkbox", name="typed"),
        "#/conversations": page.get_by_role("button", name="Show"),
    }
    for route, shown in views.items():
        page.goto(f"{server.url}/ui/{route}")
        expect(shown).to_be_visible()
        assert ui.fits_width(), route
