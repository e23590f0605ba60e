/** A vector store's page: its summary, adding files, its batches followed live, and its files filtered by status. */

import * as api from "./api.js";
import { BatchBoard } from "./batches.js";
import { Pages, badge, chips, field, formatBytes, h, heading, newestOnly, select, showError, table, time } from "./dom.js";
import { storeFileActions } from "./fileactions.js";
import { uploadForm } from "./upload.js";

const STATUS_FILTERS = [
  ["", "Any status"],
  ["in_progress", "In progress"],
  ["completed", "Completed"],
  ["failed", "Failed"],
  ["cancelled", "Cancelled"],
];

/** File names by id: the store's file list carries ids only. */
const filenames = new Map();

async function nameFiles(ids) {
  const unknown = ids.filter((id) => !filenames.has(id));
  const found = await Promise.allSettled(unknown.map((id) => api.get(`/files/${encodeURIComponent(id)}`)));
  found.forEach((result, index) => {
    filenames.set(unknown[index], result.status === "fulfilled" ? result.value.filename : "(file deleted)");
  });
}

/** Open the page of one store in `main`; returns the view, whose leave() stops its polling. */
export function storeView(main, storeId) {
  const path = `/vector_stores/${encodeURIComponent(storeId)}`;
  const title = heading(storeId);
  const details = h("section", { "aria-label": "Details" });
  const board = new BatchBoard(storeId, () => refresh());
  const state = { filter: "" };
  const pages = new Pages("File pages", () => showFiles());
  const onFilter = (event) => {
    state.filter = event.target.value;
    pages.reset();
    showFiles();
  };
  const rows = h("div", {});
  const files = h(
    "section",
    { "aria-labelledby": "files-heading" },
    h("h2", { id: "files-heading" }, "Files"),
    h("div", { class: "inline-fields controls" }, field("Status", select(STATUS_FILTERS, "", { onchange: onFilter }))),
    rows,
    pages.element,
  );
  const added = (batch, uploaded) => {
    for (const file of uploaded) filenames.set(file.id, file.filename);
    board.add(batch);
    refresh();
  };
  main.append(
    h("p", {}, h("a", { href: "#/stores" }, "← All vector stores")),
    title,
    details,
    h("div", { class: "store-layout" }, uploadForm(storeId, added), h("div", {}, board.element, files)),
  );

  async function showDetails() {
    const store = await api.get(path);
    title.textContent = store.name || store.id;
    document.title = `${title.textContent} · ragstore`;
    details.replaceChildren(storeSummary(store));
  }

  const drawFiles = newestOnly(rows);
  function showFiles() {
    return drawFiles(
      async () => {
        const page = await api.get(`${path}/files`, { limit: 20, filter: state.filter, after: pages.after });
        await nameFiles(page.data.map((file) => file.id));
        return page;
      },
      (page) => {
        const list = page.data.length ? fileTable(storeId, page.data, () => refresh()) : null;
        rows.replaceChildren(list ?? h("p", { class: "empty" }, "No files here."));
        pages.show(page);
      },
      showError,
    );
  }

  function refresh() {
    return Promise.all([showDetails().catch(showError), showFiles()]);
  }

  refresh().then(() => board.load().catch(showError));
  return { leave: () => board.stop() };
}

function storeSummary(store) {
  const counts = store.file_counts;
  const item = (label, ...value) => h("div", {}, h("dt", {}, label), h("dd", {}, ...value));
  const metadata = chips(store.metadata);
  const expiry = store.expires_after
    ? [`${store.expires_after.days} days unused, `, time(store.expires_at)]
    : ["never"];
  const files = `${counts.completed} completed, ${counts.in_progress} in progress, ${counts.failed} failed, ${counts.cancelled} cancelled`;
  return h(
    "dl",
    { class: "summary" },
    item("Status", badge(store.status)),
    item("Files", files),
    item("Usage", formatBytes(store.usage_bytes)),
    item("Created", time(store.created_at)),
    item("Last active", time(store.last_active_at)),
    item("Expires", ...expiry),
    metadata.length ? item("Metadata", ...metadata) : null,
    item("ID", h("code", {}, store.id)),
    item("Search", h("a", { href: `#/search?store=${encodeURIComponent(store.id)}` }, "Search this store")),
  );
}

function fileTable(storeId, files, refresh) {
  const rows = files.map((file) => {
    const named = { id: file.id, filename: filenames.get(file.id) ?? file.id };
    const href = `#/stores/${encodeURIComponent(storeId)}/files/${encodeURIComponent(file.id)}`;
    const strategy = file.chunking_strategy?.static;
    const error = file.last_error ? `${file.last_error.code}: ${file.last_error.message}` : "";
    const attributes = chips(file.attributes);
    return [
      h("span", {}, h("a", { href }, named.filename), h("br"), h("small", {}, h("code", {}, file.id))),
      badge(file.status),
      formatBytes(file.usage_bytes),
      strategy ? `${strategy.max_chunk_size_tokens} / ${strategy.chunk_overlap_tokens}` : "",
      attributes.length ? attributes : "",
      error ? h("span", { class: "error-text" }, error) : "",
      time(file.created_at),
      storeFileActions(storeId, file, named, refresh),
    ];
  });
  return table(
    "Files of this vector store",
    ["File", "Status", "Usage", "Chunk / overlap", "Attributes", "Last error", "Added", "Actions"],
    rows,
  );
}
