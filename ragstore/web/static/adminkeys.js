/** The API keys part of the admin view: create a key for a tenant (shown once), list keys, revoke one. */

import * as api from "./api.js";
import { confirmDialog } from "./dialogs.js";
import { act, announce, field, h, select, showError, table, time } from "./dom.js";

/** The section for these tenants: {element, show()} (show reads the keys again). */
export function keysSection(tenants) {
  const choices = [["", "All tenants"], ...tenants.map((tenant) => [tenant.id, tenant.name])];
  const names = new Map(tenants.map((tenant) => [tenant.id, tenant.name]));
  const filter = select(choices, "", { onchange: () => show() });
  const created = h("div", {});
  const rows = h("div", {});
  const element = h(
    "section",
    { "aria-labelledby": "keys-heading" },
    h("h2", { id: "keys-heading" }, "API keys"),
    tenants.length ? createForm(tenants, created, () => show()) : null,
    created,
    h("div", { class: "inline-fields controls" }, field("Keys of", filter)),
    rows,
  );

  async function show() {
    try {
      const keys = await api.admin.get("/api_keys", { tenant: filter.value });
      rows.replaceChildren(
        keys.data.length ? keyTable(keys.data, names, () => show()) : h("p", { class: "empty" }, "No API keys."),
      );
    } catch (error) {
      rows.replaceChildren(h("p", { class: "empty" }, "The API keys could not be listed."));
      showError(error);
    }
  }
  return { element, show };
}

function createForm(tenants, created, refresh) {
  const tenant = select(
    tenants.map((t) => [t.id, t.name]),
    tenants[0].id,
    { name: "key-tenant" },
  );
  const name = h("input", { type: "text", name: "key-name", autocomplete: "off", maxlength: 64 });
  const submit = h("button", { type: "submit" }, "Create API key");
  const form = h(
    "form",
    { "aria-label": "New API key" },
    h("div", { class: "inline-fields" }, field("Tenant", tenant), field("Key name", name, "Optional: who uses it.")),
    h("div", { class: "actions" }, submit),
  );
  const panel = h("details", { class: "card create" }, h("summary", {}, "New API key"), form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await act(submit, async () => {
      const owner = tenant.selectedOptions[0]?.textContent ?? tenant.value;
      const key = await api.admin.post(`/tenants/${encodeURIComponent(tenant.value)}/api_keys`, { name: name.value });
      form.reset();
      panel.open = false;
      created.replaceChildren(shownOnce(key, owner, created));
      announce("API key created: copy it now, it is shown only once.");
      await refresh();
    });
  });
  return panel;
}

/** The new key itself, which the server never shows again: to copy now, then dismiss. */
function shownOnce(key, tenantName, holder) {
  const secret = h("code", { class: "secret" }, key.key);
  const copy = h("button", { type: "button", class: "secondary" }, "Copy key");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(key.key);
      announce("Key copied.");
    } catch {
      getSelection().selectAllChildren(secret); // no clipboard access: select it for the user to copy
      announce("Select and copy the key.");
    }
  });
  const dismiss = h("button", { type: "button", class: "link", onclick: () => holder.replaceChildren() }, "Dismiss");
  return h(
    "div",
    { class: "card new-key", role: "status", "aria-label": "New API key" },
    h("p", {}, h("strong", {}, `New key for ${tenantName}`), `${key.name ? ` (${key.name})` : ""}: copy it now.`),
    h("p", {}, secret),
    h("p", { class: "meta" }, "It is shown only this once: the server keeps only its hash."),
    h("div", { class: "actions" }, copy, dismiss),
  );
}

function keyTable(keys, names, refresh) {
  const rows = keys.map((key) => {
    const label = key.name || key.prefix;
    const revoke = h(
      "button",
      { type: "button", class: "danger", "aria-label": `Revoke ${label}` },
      "Revoke",
    );
    revoke.addEventListener("click", () => revokeKey(revoke, key, label, refresh));
    return [
      h("span", {}, key.name || "—", h("br"), h("small", {}, h("code", {}, key.id))),
      names.get(key.tenant_id) ?? key.tenant_id,
      h("code", {}, `${key.prefix}…`),
      time(key.created_at),
      time(key.last_used_at),
      key.revoked_at ? h("span", { class: "badge badge-revoked" }, "revoked") : h("span", { class: "badge" }, "active"),
      key.revoked_at ? "" : revoke,
    ];
  });
  return table("API keys", ["Name", "Tenant", "Starts with", "Created", "Last used", "Status", "Actions"], rows);
}

async function revokeKey(button, key, label, refresh) {
  const message = `Requests with “${label}” get 401 from now on. This cannot be undone.`;
  if (!(await confirmDialog(`Revoke ${label}?`, message, "Revoke key"))) return;
  await act(button, async () => {
    await api.admin.remove(`/api_keys/${encodeURIComponent(key.id)}`);
    announce(`Revoked ${label}.`);
    await refresh();
  });
}
