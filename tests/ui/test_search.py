"""The search playground: several stores, attribute filters, ranker and threshold, highlighted and escaped results."""

from __future__ import annotations

import io
import re

from playwright.sync_api import expect

from tests.support.documents import pdf_bytes

DOCUMENTS = {
    "holidays.txt": "Employees receive 25 days of paid vacation per year. Unused vacation days carry over to March.",
    "markup.txt": "Vacation requests go to <b>your manager</b> <img src=x onerror=window.pwned=1> before travel.",
    "expenses.txt": "Vacation travel is not an expense: reports are due within 30 days of a business trip.",
    "account.md": "# Account help\n\nTo reset your password, open Settings and choose Security.",
}


def add_files(client, store_id, names, attributes):
    ids = [client.files.create(file=(n, io.BytesIO(DOCUMENTS[n].encode())), purpose="assistants").id for n in names]
    batch = client.vector_stores.file_batches.create_and_poll(
        vector_store_id=store_id, file_ids=ids, attributes=attributes
    )
    assert batch.file_counts.completed == len(ids)


def hits(page):
    return page.get_by_role("region", name="Results").get_by_role("listitem")


def test_search_several_stores_with_filters(start_server, open_ui):
    server = start_server()
    client = server.client()
    hr = client.vector_stores.create(name="hr", metadata={"team": "people"})
    it = client.vector_stores.create(name="it")
    add_files(client, hr.id, ["holidays.txt", "markup.txt"], {"category": "hr", "year": 2025})
    add_files(client, hr.id, ["expenses.txt"], {"category": "finance", "year": 2024})
    add_files(client, it.id, ["account.md"], {"category": "it", "year": 2025})
    ui = open_ui(server)
    page = ui.open()
    expect(page.get_by_role("table", name="Vector stores").get_by_role("link")).to_have_text(["it", "hr"])
    ui.screenshot("stores")

    page.get_by_role("link", name="Search").click()
    search = page.get_by_role("search", name="Search vector stores")
    search.get_by_label("Query").fill("vacation days")
    search.get_by_role("checkbox", name="hr").check()
    search.get_by_role("checkbox", name="it").check()
    search.get_by_role("button", name="Add filter").click()
    search.get_by_label("Key").fill("category")
    search.get_by_label("Operator").select_option("eq")
    search.get_by_label("Value").fill("hr")
    search.get_by_role("button", name="Search").click()

    expect(page.get_by_role("region", name="Results")).to_contain_text("2 results from 2 stores for “vacation days”.")
    expect(hits(page).locator(".filename")).to_have_text(["holidays.txt", "markup.txt"])
    first = hits(page).first
    expect(first.locator("mark")).to_have_text(["days", "vacation", "vacation", "days"])
    expect(first).to_contain_text("category: hr")
    expect(first).to_contain_text("year: 2025")
    expect(first.locator(".score")).to_have_text(re.compile(r"^(0\.\d{3}|1\.000)$"))  # hybrid: absolute, 0..1
    expect(first.locator(".place")).to_have_text("chunk 1")
    markup = hits(page).nth(1)
    expect(markup).to_contain_text("<b>your manager</b> <img src=x onerror=window.pwned=1>")  # shown as text
    expect(markup.locator("b, img")).to_have_count(0)
    assert page.evaluate("window.pwned") is None
    ui.screenshot("search")

    search.get_by_label("Type").select_option("number")  # year, as a number this time
    search.get_by_label("Key").fill("year")
    search.get_by_label("Operator").select_option("lt")
    search.get_by_label("Value").fill("2025")
    search.get_by_role("button", name="Search").click()
    expect(hits(page).locator(".filename")).to_have_text(["expenses.txt"])

    search.get_by_label("Operator").select_option("in")
    search.get_by_label("Value").fill("2024, 2026")
    search.get_by_label("Ranker").select_option("none")
    search.get_by_label("Score threshold (0 to 1)").fill("0.99")
    search.get_by_role("button", name="Search").click()
    expect(page.get_by_role("region", name="Results")).to_contain_text("0 results")
    expect(page.get_by_role("region", name="Results")).to_contain_text("No results.")

    search.get_by_label("Value").fill("soon")
    search.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text("The value of 'year' is not a number.")

    client.vector_stores.delete(it.id)  # gone while the page still offers it: its error is shown, hr still answers
    search.get_by_role("button", name="Remove").click()
    search.get_by_label("Score threshold (0 to 1)").fill("0")
    search.get_by_role("button", name="Search").click()
    expect(page.get_by_role("region", name="Results")).to_contain_text(f"it: No vector store found with id '{it.id}'.")
    expect(hits(page)).to_have_count(3)


def test_lexical_ranker_hits_with_page_and_chunk_open_in_their_file(start_server, open_ui):
    server = start_server()
    client = server.client()
    store = client.vector_stores.create(name="manual")
    data = pdf_bytes("Introduction to the office.", "The parking garage opens at seven.", "Lunch is at noon.")
    file = client.files.create(file=("manual.pdf", io.BytesIO(data)), purpose="assistants")
    client.vector_stores.files.create_and_poll(vector_store_id=store.id, file_id=file.id)
    ui = open_ui(server)
    page = ui.open(f"#/search?store={store.id}")
    search = page.get_by_role("search", name="Search vector stores")
    search.get_by_label("Query").fill("parking garage")
    search.get_by_label("Ranker").select_option("lexical")
    search.get_by_role("button", name="Search").click()

    expect(hits(page)).to_have_count(1)  # keywords only: the other pages share no word with the query
    expect(page.locator(".score-explained")).to_contain_text("the share of the query's keyword weight")
    expect(hits(page).first.locator(".place")).to_have_text("page 2, chunk 2")
    expect(hits(page).first.locator(".score")).to_have_text(re.compile(r"^(0\.\d{3}|1\.000)$"))
    hits(page).first.get_by_role("link", name="Open manual.pdf at this passage").click()
    expect(page.get_by_role("heading", name="manual.pdf", level=1)).to_be_visible()
    expect(page.locator(".chunk.current")).to_contain_text("Chunk 2 · page 2")
