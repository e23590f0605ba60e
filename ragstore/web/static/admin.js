/**
 * The admin view (#/admin), with the admin key (RAGSTORE_ADMIN_KEY, kept in this tab's session storage only):
 * tenants (create, list), their API keys (adminkeys.js) and their usage (GET /v1/admin/stats).
 */

import * as api from "./api.js";
import { keysSection } from "./adminkeys.js";
import { barChart } from "./charts.js";
import { act, announce, field, formatBytes, h, heading, showError, table, time } from "./dom.js";

/** Open the view in `main`. */
export function adminView(main) {
  const body = h("div", {});
  main.append(heading("Administration"), keyForm(() => show()), body);

  async function show() {
    if (!api.adminKey()) {
      body.replaceChildren(
        h("p", { class: "empty" }, "Enter the admin key (the server's RAGSTORE_ADMIN_KEY) to manage tenants and keys."),
      );
      return;
    }
    try {
      const [tenants, stats] = await Promise.all([api.admin.get("/tenants"), api.admin.get("/stats")]);
      const keys = keysSection(tenants.data);
      body.replaceChildren(
        tenantsSection(tenants.data, () => show()),
        keys.element,
        usageSection(stats.tenants),
      );
      await keys.show();
    } catch (error) {
      body.replaceChildren(h("p", { class: "empty" }, "The admin API refused or could not be reached."));
      showError(error);
    }
  }
  show();
}

/** The admin key's form: use a key, or forget it. */
function keyForm(changed) {
  const input = h("input", {
    type: "password",
    name: "admin-key",
    autocomplete: "off",
    spellcheck: "false",
    value: api.adminKey(),
  });
  const forget = h("button", { type: "button", class: "secondary" }, "Forget admin key");
  const form = h(
    "form",
    { class: "card inline-fields", "aria-label": "Admin key" },
    field("Admin key", input, "Kept in this browser tab's session storage only, apart from the API key."),
    h("div", { class: "actions admin-key-actions" }, h("button", { type: "submit" }, "Use admin key"), forget),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    api.setAdminKey(input.value.trim());
    announce(input.value.trim() ? "Admin key saved for this browser session." : "Admin key cleared.");
    changed();
  });
  forget.addEventListener("click", () => {
    input.value = "";
    api.setAdminKey("");
    announce("Admin key cleared.");
    changed();
  });
  return form;
}

function tenantsSection(tenants, refresh) {
  const name = h("input", { type: "text", name: "tenant-name", autocomplete: "off", maxlength: 64, required: true });
  const submit = h("button", { type: "submit" }, "Create tenant");
  const form = h(
    "form",
    { "aria-label": "New tenant" },
    field("Name", name, "1 to 64 characters; a company or team."),
    h("div", { class: "actions" }, submit),
  );
  const panel = h("details", { class: "card create" }, h("summary", {}, "New tenant"), form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await act(submit, async () => {
      const tenant = await api.admin.post("/tenants", { name: name.value.trim() });
      announce(`Created tenant ${tenant.name}.`);
      panel.open = false;
      await refresh();
    });
  });
  const rows = tenants.map((tenant) => [
    h("span", {}, tenant.name, h("br"), h("small", {}, h("code", {}, tenant.id))),
    String(tenant.vector_stores),
    String(tenant.files),
    String(tenant.active_keys),
    time(tenant.created_at),
  ]);
  return h(
    "section",
    { "aria-labelledby": "tenants-heading" },
    h("h2", { id: "tenants-heading" }, "Tenants"),
    panel,
    rows.length
      ? table("Tenants", ["Tenant", "Vector stores", "Files", "Live keys", "Created"], rows)
      : h("p", { class: "empty" }, "No tenants yet."),
  );
}

function usageSection(usage) {
  const rows = usage.map((tenant) => [
    tenant.name,
    String(tenant.vector_stores),
    String(tenant.files),
    formatBytes(tenant.file_bytes),
    String(tenant.chunks),
    tenant.partition ? h("code", {}, tenant.partition) : "—",
  ]);
  const charts = usage.length
    ? h(
        "div",
        { class: "chart-grid" },
        barChart({
          title: "Chunks per tenant",
          summary: `${usage.reduce((sum, tenant) => sum + tenant.chunks, 0)} chunk(s) in all.`,
          points: usage.map((tenant) => ({ label: tenant.name, value: tenant.chunks })),
          unit: "Chunks",
        }),
        barChart({
          title: "File bytes per tenant",
          summary: `${formatBytes(usage.reduce((sum, tenant) => sum + tenant.file_bytes, 0))} in all.`,
          points: usage.map((tenant) => ({ label: tenant.name, value: tenant.file_bytes })),
          format: formatBytes,
          unit: "Bytes",
        }),
      )
    : null;
  return h(
    "section",
    { "aria-labelledby": "usage-heading" },
    h("h2", { id: "usage-heading" }, "Usage per tenant"),
    rows.length
      ? table("Usage per tenant", ["Tenant", "Vector stores", "Files", "File bytes", "Chunks", "Partition"], rows)
      : h("p", { class: "empty" }, "No tenants yet."),
    charts,
  );
}
