/** Every file of the tenant (GET /v1/files), with the stores holding each: files that outlived their store are
 * marked, can be shown alone, downloaded and deleted. */

import * as api from "./api.js";
import { deleteButton, downloadButton } from "./fileactions.js";
import { Pages, formatBytes, h, heading, newestOnly, showError, table, time, uid } from "./dom.js";

/** Which stores hold each file: file id -> [{id, name, status}], from every store's file list. */
async function storesByFile() {
  const stores = await api.listAll("/vector_stores");
  const held = new Map();
  const lists = await Promise.all(
    stores.map((store) => api.listAll(`/vector_stores/${encodeURIComponent(store.id)}/files`)),
  );
  lists.forEach((files, n) => {
    for (const file of files) {
      if (!held.has(file.id)) held.set(file.id, []);
      held.get(file.id).push({ id: stores[n].id, name: stores[n].name || stores[n].id, status: file.status });
    }
  });
  return held;
}

/** Open the view in `main`. */
export function filesView(main) {
  const pages = new Pages("File pages", () => show());
  const alone = h("input", { type: "checkbox", name: "unattached", id: uid("unattached") });
  const rows = h("div", {});
  main.append(
    heading("Files"),
    h("p", { class: "meta" }, "Every file uploaded with this key's tenant, whichever stores hold it."),
    h("div", { class: "choice controls" }, alone, h("label", { for: alone.id }, "Only files in no vector store")),
    h("section", { "aria-label": "File list" }, rows, pages.element),
  );
  alone.addEventListener("change", () => {
    pages.reset();
    show();
  });

  const draw = newestOnly(rows);
  function show() {
    return draw(
      () => Promise.all([storesByFile(), api.get("/files", { limit: 50, after: pages.after })]),
      ([held, page]) => {
        const files = alone.checked ? page.data.filter((file) => !held.has(file.id)) : page.data;
        rows.replaceChildren(
          files.length ? fileTable(files, held, () => show()) : h("p", { class: "empty" }, "No files here."),
        );
        pages.show(page);
      },
      (error) => {
        rows.replaceChildren(h("p", { class: "empty" }, "The files could not be listed."));
        showError(error);
      },
    );
  }
  show();
}

function fileTable(files, held, refresh) {
  const rows = files.map((file) => {
    const stores = held.get(file.id) ?? [];
    const where = stores.length
      ? stores.map((store) =>
          h(
            "a",
            { href: `#/stores/${encodeURIComponent(store.id)}/files/${encodeURIComponent(file.id)}`, class: "chip" },
            `${store.name} (${store.status.replace("_", " ")})`,
          ),
        )
      : h("span", { class: "badge badge-unattached" }, "in no store");
    return [
      h("span", {}, file.filename, h("br"), h("small", {}, h("code", {}, file.id))),
      formatBytes(file.bytes),
      file.purpose,
      where,
      time(file.created_at),
      h("div", { class: "row-actions" }, downloadButton(file), deleteButton(file, refresh)),
    ];
  });
  return table("Files", ["File", "Size", "Purpose", "Vector stores", "Uploaded", "Actions"], rows);
}
