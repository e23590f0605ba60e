/** What can be done to a file: download its original, delete it everywhere, and, in a store, detach it or retry it
 * (attach it again: its chunks are made anew). Each asks before what cannot be undone, then calls `done`. */

import * as api from "./api.js";
import { confirmDialog } from "./dialogs.js";
import { act, announce, h } from "./dom.js";

function button(label, name, style, run) {
  const props = { type: "button", class: style, "aria-label": `${label} ${name}` };
  return h("button", { ...props, onclick: (event) => act(event.currentTarget, run) }, label);
}

export function downloadButton(file) {
  return button("Download", file.filename, "secondary", async () => {
    await api.download(file.id, file.filename);
    announce(`Downloading ${file.filename}.`);
  });
}

export function deleteButton(file, done) {
  return button("Delete", file.filename, "danger", async () => {
    const message = `Delete “${file.filename}” and remove it from every vector store? This cannot be undone.`;
    if (!(await confirmDialog(`Delete ${file.filename}?`, message, "Delete file"))) return;
    await api.remove(`/files/${encodeURIComponent(file.id)}`);
    announce(`Deleted ${file.filename}.`);
    await done("deleted");
  });
}

/** The actions on a file of a store: `storeFile` is the vector store file object, `file` its {id, filename}. */
export function storeFileActions(storeId, storeFile, file, done) {
  const path = `/vector_stores/${encodeURIComponent(storeId)}/files/${encodeURIComponent(file.id)}`;
  const detach = button("Detach", file.filename, "secondary", async () => {
    const message = `Remove “${file.filename}” and its chunks from this store? The file itself stays.`;
    if (!(await confirmDialog(`Detach ${file.filename}?`, message, "Detach file"))) return;
    await api.remove(path);
    announce(`Detached ${file.filename}.`);
    await done("detached");
  });
  const retry = button("Retry", file.filename, "secondary", async () => {
    const body = { file_id: file.id };
    if (storeFile.chunking_strategy) body.chunking_strategy = storeFile.chunking_strategy;
    if (storeFile.attributes) body.attributes = storeFile.attributes;
    await api.post(`/vector_stores/${encodeURIComponent(storeId)}/files`, body);
    announce(`Processing ${file.filename} again.`);
    await done("retried");
  });
  const retryable = storeFile.status === "failed" || storeFile.status === "cancelled";
  return h(
    "div",
    { class: "row-actions" },
    downloadButton(file),
    retryable ? retry : null,
    detach,
    deleteButton(file, done),
  );
}
