/** A fieldset of checkboxes choosing vector stores, shared by the search playground and the Ask view. */

import * as api from "./api.js";
import { h, showError, uid } from "./dom.js";

/** The fieldset, filled once the stores are listed; `preselected` (an id) starts checked, as does a lone store. */
export function storePicker(preselected) {
  const legend = h("legend", {}, "Vector stores");
  const element = h("fieldset", { class: "store-choices" }, legend, h("p", {}, "Loading…"));
  const fill = async () => {
    const all = await api.listAll("/vector_stores");
    if (!all.length) {
      element.replaceChildren(legend, h("p", {}, "No vector stores yet: create one first."));
      return;
    }
    const choice = (store) => {
      const box = h("input", {
        type: "checkbox",
        value: store.id,
        id: uid("store"),
        checked: store.id === preselected || all.length === 1,
      });
      box.dataset.name = store.name || store.id;
      return h("div", { class: "choice" }, box, h("label", { for: box.id }, box.dataset.name));
    };
    element.replaceChildren(legend, h("div", { class: "choices" }, all.map(choice)));
  };
  fill().catch(showError);
  return {
    element,
    /** The checked stores as {id, name}. */
    chosen: () =>
      [...element.querySelectorAll("input:checked")].map((box) => ({ id: box.value, name: box.dataset.name })),
  };
}
