"""The API's documentation page renders offline: Swagger UI loads its assets from ragstore itself (the
open_ui fixture fails the test on any request outside the server, or any error the page throws)."""

from __future__ import annotations

from playwright.sync_api import expect


def test_swagger_ui_loads_with_no_outside_request(start_server, open_ui):
    server = start_server()
    server.client().vector_stores.create(name="docs")  # the server's fixture wants one response it can check
    ui = open_ui(server)
    page = ui.page

    page.goto(f"{server.url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("ragstore")
    expect(page.get_by_text("/v1/vector_stores/{vector_store_id}/files/{file_id}/chunks").first).to_be_visible()
    ui.screenshot("docs")
