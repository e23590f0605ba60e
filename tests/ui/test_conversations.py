"""Conversations, read-only: the list by user, and one conversation with each answer's context and feedback."""

from __future__ import annotations

import io

import httpx
from playwright.sync_api import expect

from tests.api.conftest import API_KEY

HOLIDAYS = "Employees receive 25 days of paid vacation per year. Unused days can be carried over until March 31."


def test_read_a_conversation_with_its_context_used_and_feedback(start_server, open_ui):
    server = start_server()
    client = server.client()
    store = client.vector_stores.create(name="hr")
    file = client.files.create(file=("holidays.txt", io.BytesIO(HOLIDAYS.encode())), purpose="assistants")
    client.vector_stores.files.create_and_poll(file_id=file.id, vector_store_id=store.id)
    with httpx.Client(base_url=f"{server.url}/v1", headers={"Authorization": f"Bearer {API_KEY}"}) as http:
        conversation = http.post(
            "/conversations", json={"user_id": "u-42", "title": "Vacation question", "metadata": {"channel": "web"}}
        ).json()
        question = {"question": "How many vacation days do I get?", "vector_store_ids": [store.id]}
        answer = http.post("/answers", json={**question, "conversation_id": conversation["id"]}).json()
        feedback = {"rating": 4, "comment": "Clear <i>and</i> short"}
        http.post(
            f"/conversations/{conversation['id']}/items/{answer['id']}/feedback", json=feedback
        ).raise_for_status()
        http.post("/conversations", json={"user_id": "u-7", "title": "Another user's"}).raise_for_status()
    ui = open_ui(server)
    page = ui.open("#/conversations")

    titles = page.get_by_role("table", name="Conversations").get_by_role("link")
    expect(titles).to_have_text(["Another user's", "Vacation question"])
    page.get_by_label("User ID").fill("u-42")
    page.get_by_role("button", name="Show").click()
    expect(titles).to_have_text(["Vacation question"])
    expect(page.get_by_role("table", name="Conversations")).to_contain_text("channel: web")
    titles.first.click()

    expect(page.get_by_role("heading", name="Vacation question", level=1)).to_be_visible()
    expect(page.get_by_text("user u-42")).to_be_visible()
    messages = page.locator(".messages > li")
    expect(messages).to_have_count(2)
    expect(messages.first).to_contain_text("How many vacation days do I get?")
    reply = messages.nth(1)
    expect(reply.locator(".message-text")).to_have_text(answer["answer"])
    context = reply.get_by_text("Context used (1 passage)")
    context.click()  # a <details>: opened by click or keyboard
    expect(reply.get_by_role("blockquote")).to_have_text(answer["context_used"][0]["excerpt"])
    expect(reply).to_contain_text("holidays.txt")
    expect(reply).to_contain_text("Rated 4 of 5: “Clear <i>and</i> short”")  # text, not markup
    expect(reply.locator("i")).to_have_count(0)
    ui.screenshot("conversations")

    page.goto(f"{server.url}/ui/#/conversations/conv_missing")
    expect(page.get_by_role("alert")).to_contain_text("conv_missing")
