"""Admin, with the admin key: tenants created and listed, an API key created (shown once, and working), listed and
revoked (then refused), usage per tenant in a table and charts; the key stays in this tab's session storage."""

from __future__ import annotations

import io

import openai
import pytest
from playwright.sync_api import expect

ADMIN = "admin-secret"
HOLIDAYS = "Employees receive 25 days of paid vacation per year. Unused days can be carried over until March 31."


def test_tenants_keys_and_usage_with_the_admin_key(start_server, open_ui):
    server = start_server(admin_key=ADMIN, api_key=None)
    ui = open_ui(server)
    page = ui.open("#/admin", key=None)
    expect(page.get_by_role("heading", name="Administration", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Enter the admin key")

    key_form = page.get_by_role("form", name="Admin key")
    key_form.get_by_label("Admin key").fill("wrong")
    key_form.get_by_role("button", name="Use admin key").click()
    expect(page.get_by_role("alert")).to_contain_text("Incorrect admin key provided.")
    key_form.get_by_label("Admin key").fill(ADMIN)
    key_form.get_by_role("button", name="Use admin key").click()
    tenants = page.get_by_role("table", name="Tenants")
    expect(tenants).to_be_visible()

    page.get_by_text("New tenant", exact=True).click()
    page.get_by_role("form", name="New tenant").get_by_label("Name").fill("acme")
    page.get_by_role("button", name="Create tenant").click()
    expect(tenants.locator("tbody tr").filter(has_text="acme")).to_have_count(1)
    expect(page.get_by_role("form", name="New tenant")).to_be_hidden()  # the form closes once done

    page.get_by_text("New API key", exact=True).click()
    form = page.get_by_role("form", name="New API key")
    form.get_by_label("Tenant").select_option(label="acme")
    form.get_by_label("Key name").fill("ci")
    form.get_by_role("button", name="Create API key").click()
    shown = page.get_by_role("status", name="New API key")
    expect(shown).to_contain_text("New key for acme (ci): copy it now.")
    secret = shown.locator("code.secret").text_content()
    assert secret
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=secret, max_retries=0)
    store = client.vector_stores.create(name="acme-kb")  # the new key works, as acme
    file = client.files.create(file=("holidays.txt", io.BytesIO(HOLIDAYS.encode())), purpose="assistants")
    client.vector_stores.files.create_and_poll(file_id=file.id, vector_store_id=store.id)

    keys = page.get_by_role("table", name="API keys").locator("tbody tr")
    expect(keys.filter(has_text="ci")).to_contain_text("active")
    page.get_by_label("Keys of").select_option(label="acme")
    expect(keys).to_have_count(1)
    page.get_by_role("button", name="Revoke ci").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke key").click()
    expect(keys.filter(has_text="ci")).to_contain_text("revoked")
    expect(page.get_by_role("button", name="Revoke ci")).to_have_count(0)
    with pytest.raises(openai.AuthenticationError):
        client.vector_stores.list()

    page.reload()  # the admin key survives a reload of this tab; the secret is not shown again
    expect(page.get_by_role("table", name="Tenants")).to_be_visible()
    expect(page.get_by_role("status", name="New API key")).to_have_count(0)
    usage = page.get_by_role("table", name="Usage per tenant").locator("tbody tr").filter(has_text="acme")
    expect(usage.locator("td").nth(1)).to_have_text("1")  # one vector store
    expect(usage.locator("td").nth(2)).to_have_text("1")  # one file
    expect(usage.locator("td").nth(4)).to_have_text("1")  # of one chunk
    chart = page.get_by_role("figure", name="Chunks per tenant")
    expect(chart.locator("rect.bar title")).to_contain_text(["acme: 1"])
    expect(chart.locator("rect.bar")).to_have_count(
        page.get_by_role("table", name="Usage per tenant").locator("tbody tr").count()
    )
    stored = page.evaluate("[sessionStorage.getItem('ragstore.adminKey'), localStorage.length]")
    assert stored == [ADMIN, 0]
    ui.screenshot("admin", full_page=True)

    page.get_by_role("button", name="Forget admin key").click()
    expect(page.locator("main")).to_contain_text("Enter the admin key")
    assert page.evaluate("sessionStorage.getItem('ragstore.adminKey')") is None
