/** One file of a store: its status and error, its actions, and its chunks in order with their page numbers; a search
 * hit or citation opens here with its chunk (?chunk=N) highlighted and scrolled to. */

import * as api from "./api.js";
import { fileChunks } from "./chunks.js";
import { storeFileActions } from "./fileactions.js";
import { badge, chips, formatBytes, h, heading, showError, time } from "./dom.js";

/** Open the view in `main`. */
export function storeFileView(main, storeId, fileId, params) {
  const storePath = `/vector_stores/${encodeURIComponent(storeId)}`;
  const back = h("a", { href: `#/stores/${encodeURIComponent(storeId)}` }, "← The vector store");
  const title = heading(fileId);
  const details = h("section", { "aria-label": "Details" });
  const chunks = h(
    "section",
    { "aria-labelledby": "chunks-heading" },
    h("h2", { id: "chunks-heading" }, "Chunks"),
    h("p", {}, "Loading…"),
  );
  main.append(h("p", {}, back), title, details, chunks);
  const wanted = params.has("chunk") ? Number(params.get("chunk")) : null;

  async function show() {
    const [storeFile, file, store] = await Promise.all([
      api.get(`${storePath}/files/${encodeURIComponent(fileId)}`),
      api.get(`/files/${encodeURIComponent(fileId)}`).catch(() => ({ id: fileId, filename: fileId, bytes: 0 })),
      api.get(storePath),
    ]);
    title.textContent = file.filename;
    document.title = `${file.filename} · ragstore`;
    back.textContent = `← ${store.name || store.id}`;
    const done = (what) => {
      if (what === "retried") return show().catch(showError);
      location.hash = what === "deleted" ? "#/files" : `#/stores/${encodeURIComponent(storeId)}`;
      return undefined;
    };
    details.replaceChildren(summary(storeFile, file), storeFileActions(storeId, storeFile, file, done));
    showChunks(chunks, storeFile.status === "completed" ? await fileChunks(storeId, fileId) : [], wanted);
  }

  show().catch((error) => {
    chunks.replaceChildren(h("h2", { id: "chunks-heading" }, "Chunks"), h("p", { class: "empty" }, "None to show."));
    showError(error);
  });
}

function summary(storeFile, file) {
  const item = (label, ...value) => h("div", {}, h("dt", {}, label), h("dd", {}, ...value));
  const strategy = storeFile.chunking_strategy?.static;
  const error = storeFile.last_error;
  const attributes = chips(storeFile.attributes);
  return h(
    "dl",
    { class: "summary" },
    item("Status", badge(storeFile.status)),
    error ? item("Last error", h("span", { class: "error-text" }, `${error.code}: ${error.message}`)) : null,
    item("Size", formatBytes(file.bytes ?? 0)),
    item("Usage", formatBytes(storeFile.usage_bytes)),
    strategy
      ? item("Chunking", `${strategy.max_chunk_size_tokens} tokens, ${strategy.chunk_overlap_tokens} overlap`)
      : null,
    attributes.length ? item("Attributes", ...attributes) : null,
    item("Added", time(storeFile.created_at)),
    item("ID", h("code", {}, file.id)),
  );
}

function showChunks(section, found, wanted) {
  const pages = new Set(found.map((chunk) => chunk.page).filter(Boolean));
  const about = found.length
    ? `${found.length} chunk${found.length === 1 ? "" : "s"}${pages.size ? ` over ${pages.size} page(s)` : ""}.`
    : "No chunks: the file is not (yet) processed.";
  const items = found.map((chunk) => {
    const current = chunk.index === wanted;
    const place = chunk.page ? `Chunk ${chunk.index + 1} · page ${chunk.page}` : `Chunk ${chunk.index + 1}`;
    return h(
      "li",
      { class: `chunk card${current ? " current" : ""}`, id: `chunk-${chunk.index}`, "aria-current": current ? "true" : null },
      h("div", { class: "hit-head" }, h("strong", {}, place), h("small", {}, `${chunk.token_count} tokens`)),
      h("p", { class: "hit-text" }, chunk.text),
    );
  });
  section.replaceChildren(
    h("h2", { id: "chunks-heading" }, "Chunks"),
    h("p", { class: "meta" }, about),
    items.length ? h("ol", { class: "hits chunks" }, items) : null,
  );
  section.querySelector(".chunk.current")?.scrollIntoView({ block: "center" });
}
