/** Adding files to a store: dropped or picked files are uploaded one by one, then attached as one file batch. */

import * as api from "./api.js";
import { act, h, showError, uid } from "./dom.js";
import { attributesOf, chunkingFieldset, keyValueRows } from "./fields.js";

const PARALLEL_UPLOADS = 4;

/** Upload files, a few at a time; report progress; resolve to the uploaded file objects and the failures. */
async function uploadAll(files, progress) {
  const queue = [...files];
  const uploaded = [];
  const failures = [];
  async function next() {
    for (let file = queue.shift(); file; file = queue.shift()) {
      try {
        uploaded.push(await api.uploadFile(file));
      } catch (error) {
        failures.push(`${file.name}: ${error.message}`);
      }
      progress(uploaded.length + failures.length, files.length);
    }
  }
  await Promise.all(Array.from({ length: Math.min(PARALLEL_UPLOADS, files.length) }, next));
  return { uploaded, failures };
}

/**
 * The "Add files" form of a store's page. `added(batch, files)` receives the new batch and the uploaded
 * file objects (for their names).
 */
export function uploadForm(storeId, added) {
  let staged = [];
  const picker = h("input", { type: "file", multiple: true, id: uid("picker"), class: "file-input" });
  const chosen = h("p", { class: "staged", "aria-live": "polite" }, "No files chosen.");
  const progress = h("p", { class: "upload-progress", "aria-live": "polite" });
  const hintId = uid("drop-hint");
  const zone = h(
    "div",
    { class: "dropzone", role: "group", "aria-labelledby": hintId },
    h("p", { class: "drop-hint", id: hintId }, "Drag and drop files here"),
    h("label", { for: picker.id, class: "button secondary" }, "Choose files"),
    picker,
    chosen,
  );
  const attributes = keyValueRows({
    legend: "Attributes of these files",
    addLabel: "Add attribute",
    typed: true,
    hint: "Search filters match these values.",
  });
  const chunking = chunkingFieldset();
  const submit = h("button", { type: "submit" }, "Upload and add to store");
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "upload-heading" },
    h("h2", { id: "upload-heading" }, "Add files"),
    zone,
    attributes.element,
    chunking.element,
    h("div", { class: "actions" }, submit),
    progress,
  );

  function stage(files) {
    staged = [...files];
    const names = staged.map((file) => file.name).join(", ");
    chosen.textContent = staged.length ? `${staged.length} file(s) chosen: ${names}` : "No files chosen.";
  }

  picker.addEventListener("change", () => stage(picker.files));
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    stage(event.dataTransfer.files);
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await act(submit, async () => {
      if (!staged.length) throw new Error("Choose or drop the files to add first.");
      const body = { chunking_strategy: chunking.value() };
      const fileAttributes = attributesOf(attributes);
      if (fileAttributes) body.attributes = fileAttributes;
      const report = (done, total) => {
        progress.textContent = `Uploaded ${done} of ${total} files.`;
      };
      const { uploaded, failures } = await uploadAll(staged, report);
      if (failures.length) showError(new Error(`Not uploaded: ${failures.join("; ")}`));
      if (!uploaded.length) return;
      body.file_ids = uploaded.map((file) => file.id);
      const batch = await api.post(`/vector_stores/${encodeURIComponent(storeId)}/file_batches`, body);
      progress.textContent = `Uploaded ${uploaded.length} files into batch ${batch.id}.`;
      picker.value = "";
      stage([]);
      added(batch, uploaded);
    });
  });
  return form;
}
