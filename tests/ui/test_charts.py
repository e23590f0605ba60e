"""Charts: files and storage per day, ratings per day and per store, search latency, each drawn as SVG from the
stats endpoints and readable as a table too."""

from __future__ import annotations

import io

import httpx
from playwright.sync_api import expect

from tests.api.conftest import API_KEY

HOLIDAYS = "Employees receive 25 days of paid vacation per year. Unused days can be carried over until March 31."
ACCOUNT = "To reset your password, open Settings, choose Security and click Forgot password."


def rate(http: httpx.Client, store_id: str, question: str, rating: int) -> None:
    conversation = http.post("/conversations", json={"title": question}).json()
    body = {"question": question, "vector_store_ids": [store_id], "conversation_id": conversation["id"]}
    answer = http.post("/answers", json=body).json()
    http.post(
        f"/conversations/{conversation['id']}/items/{answer['id']}/feedback", json={"rating": rating}
    ).raise_for_status()


def test_charts_draw_files_storage_feedback_and_search_latency(start_server, open_ui):
    server = start_server()
    client = server.client()
    store = client.vector_stores.create(name="handbook")
    old = client.files.create(file=("holidays.txt", io.BytesIO(HOLIDAYS.encode())), purpose="assistants")
    new = client.files.create(file=("account.txt", io.BytesIO(ACCOUNT.encode())), purpose="assistants")
    for file in (old, new):
        client.vector_stores.files.create_and_poll(file_id=file.id, vector_store_id=store.id)
    client.vector_stores.search(store.id, query="vacation days")
    with httpx.Client(base_url=f"{server.url}/v1", headers={"Authorization": f"Bearer {API_KEY}"}) as http:
        rate(http, store.id, "How many vacation days do I get?", 5)
        rate(http, store.id, "How do I reset my password?", 3)
    with server.app.state.runtime.db.connection() as conn:  # the first file and one rating came two days ago
        conn.execute("UPDATE files SET created_at = now() - interval '2 days' WHERE id = %s", (old.id,))
        conn.execute(
            "UPDATE feedback SET created_at = now() - interval '2 days', updated_at = now() - interval '2 days' "
            "WHERE rating = 3"
        )

    ui = open_ui(server)
    page = ui.open("#/charts?days=7")
    expect(page.get_by_role("heading", name="Charts", level=1)).to_be_visible()

    files = page.get_by_role("figure", name="Files stored")
    expect(files).to_contain_text("2 at the end of today; 2 uploaded in the period.")
    expect(files.locator("circle")).to_have_count(7)
    files.get_by_text("Show the numbers").click()
    cells = files.get_by_role("table").locator("tbody tr td:nth-child(2)")
    expect(cells).to_have_text(["0", "0", "0", "0", "1", "1", "2"])
    files.get_by_text("Show the numbers").click()
    expect(cells.first).to_be_hidden()
    storage = page.get_by_role("figure", name="Storage")
    expect(storage.locator("polyline")).to_have_count(2)
    expect(storage.get_by_role("listitem")).to_have_text(["Files' bytes", "Vector store usage"])
    uploads = page.get_by_role("figure", name="Files uploaded per day")
    expect(uploads.locator("rect.bar")).to_have_count(7)

    ratings = page.get_by_role("figure", name="Ratings per day")
    expect(ratings).to_contain_text("2 ratings in the period, 4.0 ★ on average.")
    rated = ratings.locator("rect.bar title").filter(has_text="mean")
    expect(rated).to_have_count(2)
    expect(rated).to_contain_text([": 1 (mean 3.0 ★)", ": 1 (mean 5.0 ★)"])  # two days ago, then today
    stores = page.get_by_role("figure", name="Mean rating per vector store")
    expect(stores.locator("rect.bar title")).to_have_text(["handbook: 4 (2 ratings)"])
    expect(stores.locator(".tick text")).to_have_text(["0", "1", "2", "3", "4", "5"])  # out of 5

    latency = page.get_by_role("figure", name="Search latency")
    expect(latency).to_contain_text("searches since the server started; half took ≤")
    expect(page.get_by_role("region", name="Searches")).to_contain_text("there is no chart of searches per day")
    ui.screenshot("charts")

    page.get_by_label("Period", exact=True).select_option(label="Last 30 days")
    expect(page.get_by_role("figure", name="Files stored").locator("circle")).to_have_count(30)

    narrow = open_ui(server, viewport={"width": 375, "height": 800})
    narrow.open("#/charts")
    expect(narrow.page.get_by_role("figure", name="Search latency")).to_be_visible()
    assert narrow.fits_width()
