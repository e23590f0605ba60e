"""Ask: a question to the chosen stores through /v1/responses, the answer with citations linking to the passage in
its file, then a rating sent as feedback (and visible through the API)."""

from __future__ import annotations

import io

import httpx
from playwright.sync_api import expect

from tests.api.conftest import API_KEY

HOLIDAYS = "Employees receive 25 days of paid vacation per year. Unused days can be carried over until March 31."
ACCOUNT = "To reset your password, open Settings, choose Security and click Forgot password."


def add(client, store_id, name, text):
    file = client.files.create(file=(name, io.BytesIO(text.encode())), purpose="assistants")
    client.vector_stores.files.create_and_poll(file_id=file.id, vector_store_id=store_id)
    return file


def test_ask_shows_the_answer_with_citations_and_sends_a_rating(start_server, open_ui):
    server = start_server()
    client = server.client()
    hr = client.vector_stores.create(name="hr")
    it = client.vector_stores.create(name="it")
    holidays = add(client, hr.id, "holidays.txt", HOLIDAYS)
    add(client, it.id, "account.txt", ACCOUNT)
    ui = open_ui(server)
    page = ui.open("#/ask")

    form = page.get_by_role("form", name="Ask a question")
    form.get_by_label("Question").fill("How many vacation days do I get?")
    form.get_by_role("button", name="Ask").click()  # no store chosen yet: a clear message, nothing sent
    expect(page.get_by_role("alert")).to_contain_text("Choose at least one vector store to ask.")
    form.get_by_role("checkbox", name="hr").check()
    form.get_by_role("checkbox", name="it").check()
    form.get_by_role("button", name="Ask").click()

    answer = page.get_by_role("list", name="Answers").locator("> li")
    expect(answer).to_have_count(1)
    expect(answer.locator(".answer-text")).to_contain_text("25 days of paid vacation")
    cite = answer.locator(".answer-text a.cite").first
    expect(cite).to_have_text("[1]")
    sources = answer.locator(".source")
    expect(sources.first).to_contain_text("[1] holidays.txt")
    expect(sources.first).to_contain_text("in hr, chunk 1")
    expect(sources.first).to_contain_text("cited")
    expect(sources.first.get_by_role("blockquote")).to_have_text(HOLIDAYS)
    href = f"#/stores/{hr.id}/files/{holidays.id}?chunk=0"
    expect(cite).to_have_attribute("href", href)
    expect(sources.first.get_by_role("link")).to_have_attribute("href", href)

    rating = answer.get_by_role("form", name="Rate this answer")
    rating.get_by_label("4").check()
    rating.get_by_label("Comment (optional)").fill("Right, and <b>short</b>")
    rating.get_by_role("button", name="Send rating").click()
    expect(rating.get_by_role("status")).to_have_text("Thanks: rated 4 of 5.")
    ui.screenshot("ask")

    with httpx.Client(base_url=f"{server.url}/v1", headers={"Authorization": f"Bearer {API_KEY}"}) as http:
        given = http.get("/feedback").json()["data"]
    assert [(f["rating"], f["comment"]) for f in given] == [(4, "Right, and <b>short</b>")]

    form.get_by_label("Question").fill("How do I reset my password?")  # a follow-up, in the same conversation
    form.get_by_role("button", name="Ask").click()
    expect(answer).to_have_count(2)
    expect(answer.nth(1).locator(".source").first).to_contain_text("account.txt")
    with httpx.Client(base_url=f"{server.url}/v1", headers={"Authorization": f"Bearer {API_KEY}"}) as http:
        assert len(http.get("/conversations").json()["data"]) == 1

    cite.click()  # the citation opens the passage in its file
    expect(page.get_by_role("heading", name="holidays.txt", level=1)).to_be_visible()
    expect(page.locator(".chunk.current")).to_contain_text("25 days of paid vacation")
