/** The vector stores view: statistics, a form to create a store, and the paginated, sortable list. */

import * as api from "./api.js";
import { confirmDialog, promptDialog } from "./dialogs.js";
import {
  Pages,
  act,
  announce,
  badge,
  field,
  formatBytes,
  h,
  heading,
  newestOnly,
  select,
  showError,
  table,
  time,
} from "./dom.js";
import { chunkingFieldset, keyValueRows } from "./fields.js";

const STATUSES = ["completed", "in_progress", "failed", "cancelled"];

/** Open the view in `main`. */
export function storesView(main) {
  const stats = h("section", { "aria-labelledby": "stats-heading" });
  const state = { order_by: "created_at", order: "desc", limit: "20" };
  const pages = new Pages("Vector store pages", () => showList());
  const rows = h("div", {});
  const list = h(
    "section",
    { "aria-labelledby": "list-heading" },
    h("h2", { id: "list-heading" }, "All vector stores"),
    listControls(state, () => {
      pages.reset();
      showList();
    }),
    rows,
    pages.element,
  );
  main.append(
    heading("Vector stores"),
    stats,
    createForm(() => refresh()),
    list,
  );

  async function refresh() {
    await Promise.all([showStats(stats).catch(showError), showList()]);
  }

  const drawList = newestOnly(rows);
  function showList() {
    return drawList(
      () => api.get("/vector_stores", { ...state, after: pages.after }),
      (page) => {
        rows.replaceChildren(
          page.data.length ? storeTable(page.data, refresh) : h("p", { class: "empty" }, "No vector stores yet."),
        );
        pages.show(page);
      },
      (error) => {
        rows.replaceChildren(h("p", { class: "empty" }, "The vector stores could not be listed."));
        showError(error);
      },
    );
  }

  refresh();
}

async function showStats(section) {
  const usage = await api.get("/vector_stores/stats");
  const byStatus = usage.files_by_status ?? {};
  const item = (label, value) => h("div", { class: "stat" }, h("dt", {}, label), h("dd", {}, value));
  section.replaceChildren(
    h("h2", { id: "stats-heading" }, "Statistics"),
    h(
      "dl",
      { class: "stats" },
      item(
        "Vector stores",
        `${usage.vector_stores}${usage.expired_stores ? ` (${usage.expired_stores} expired)` : ""}`,
      ),
      item("Files", `${usage.files} (${formatBytes(usage.file_bytes)})`),
      item("File batches", String(usage.file_batches)),
      item("Usage", formatBytes(usage.usage_bytes)),
      STATUSES.map((status) => item(`Files ${status.replace("_", " ")}`, String(byStatus[status] ?? 0))),
    ),
  );
}

function listControls(state, reload) {
  const change = (name) => (event) => {
    state[name] = event.target.value;
    reload();
  };
  const sort = [
    ["created_at", "Creation"],
    ["last_active_at", "Last activity"],
  ];
  const order = [
    ["desc", "Most recent first"],
    ["asc", "Oldest first"],
  ];
  const sizes = ["5", "10", "20", "50", "100"].map((n) => [n, n]);
  return h(
    "div",
    { class: "inline-fields controls" },
    field("Sort by", select(sort, state.order_by, { onchange: change("order_by") })),
    field("Order", select(order, state.order, { onchange: change("order") })),
    field("Per page", select(sizes, state.limit, { onchange: change("limit") })),
  );
}

function storeTable(stores, refresh) {
  const action = (label, name, style, run) => {
    const props = { type: "button", class: style, "aria-label": `${label} ${name}` };
    return h("button", { ...props, onclick: (event) => run(event.currentTarget) }, label);
  };
  const rows = stores.map((store) => {
    const counts = store.file_counts;
    let files = counts.total ? `${counts.completed} of ${counts.total} ready` : "none";
    if (counts.failed) files += `, ${counts.failed} failed`;
    const name = store.name || store.id;
    return [
      h("a", { href: `#/stores/${encodeURIComponent(store.id)}` }, name),
      badge(store.status),
      files,
      formatBytes(store.usage_bytes),
      time(store.created_at),
      time(store.last_active_at),
      h(
        "div",
        { class: "row-actions" },
        action("Rename", name, "secondary", (button) => rename(button, store, refresh)),
        action("Delete", name, "danger", (button) => destroy(button, store, refresh)),
      ),
    ];
  });
  return table("Vector stores", ["Name", "Status", "Files", "Usage", "Created", "Last active", "Actions"], rows);
}

async function rename(button, store, refresh) {
  const name = await promptDialog(`Rename ${store.name || store.id}`, "New name", store.name);
  if (name === null) return;
  await act(button, async () => {
    await api.post(`/vector_stores/${encodeURIComponent(store.id)}`, { name });
    announce(`Renamed to ${name}.`);
    await refresh();
  });
}

async function destroy(button, store, refresh) {
  const name = store.name || store.id;
  const message = `Delete “${name}” and its chunks? Its files stay in the file list. This cannot be undone.`;
  if (!(await confirmDialog(`Delete ${name}?`, message, "Delete vector store"))) return;
  await act(button, async () => {
    await api.remove(`/vector_stores/${encodeURIComponent(store.id)}`);
    announce(`Deleted ${name}.`);
    await refresh();
  });
}

/** The form that creates a store: name, metadata, expiry, and optionally files with their chunking strategy. */
function createForm(created) {
  const name = h("input", { type: "text", name: "name", autocomplete: "off", maxlength: 256 });
  const metadata = keyValueRows({ legend: "Metadata", addLabel: "Add metadata", hint: "Up to 16 keys, text values." });
  const days = h("input", { type: "number", name: "expires_after_days", min: 1, max: 365, inputmode: "numeric" });
  const files = h("input", { type: "file", name: "files", multiple: true });
  const chunking = chunkingFieldset("Chunking of these files");
  const submit = h("button", { type: "submit" }, "Create vector store");
  const form = h(
    "form",
    { "aria-label": "New vector store" },
    field("Name", name),
    metadata.element,
    field("Expires after (days of inactivity)", days, "Leave empty to keep the store until it is deleted."),
    field("Files (optional)", files),
    chunking.element,
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await act(submit, async () => {
      const body = { name: name.value, metadata: Object.fromEntries(metadata.read().map((r) => [r.key, r.value])) };
      if (!Object.keys(body.metadata).length) delete body.metadata;
      if (days.value) body.expires_after = { anchor: "last_active_at", days: Number(days.value) };
      if (files.files.length) {
        announce(`Uploading ${files.files.length} files…`);
        body.file_ids = (await Promise.all([...files.files].map(api.uploadFile))).map((file) => file.id);
        body.chunking_strategy = chunking.value();
      }
      const store = await api.post("/vector_stores", body);
      form.reset();
      metadata.clear();
      chunking.reset();
      announce(`Created vector store ${store.name || store.id}.`);
      panel.open = false; // done: the new store shows in the list below
      await created(store);
    });
  });
  const panel = h("details", { class: "card create" }, h("summary", {}, "New vector store"), form);
  return panel;
}
