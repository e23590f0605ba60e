/** Modal dialogs (native <dialog>: focus stays inside, Escape cancels), resolved as promises. */

import { h, uid } from "./dom.js";

function open(title, body, confirmLabel, { danger = false, initialFocus } = {}) {
  const titleId = uid("dialog-title");
  const confirm = h("button", { type: "submit", class: danger ? "danger" : "" }, confirmLabel);
  const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
  const form = h(
    "form",
    { method: "dialog" },
    h("h2", { id: titleId }, title),
    body,
    h("div", { class: "actions" }, confirm, cancel),
  );
  const dialog = h("dialog", { "aria-labelledby": titleId }, form);
  const opener = document.activeElement;
  document.body.append(dialog);
  return new Promise((resolve) => {
    const close = (result) => {
      dialog.close();
      dialog.remove();
      refocus(opener);
      resolve(result);
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      close(true);
    });
    cancel.addEventListener("click", () => close(false));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      close(false);
    });
    dialog.showModal();
    (initialFocus ?? cancel).focus();
  });
}

/**
 * Back to the control that opened the dialog or, when the list beneath was redrawn while it was open, to the control
 * that took its place (the one with the same accessible name).
 */
function refocus(opener) {
  if (!opener || opener.isConnected) return opener?.focus?.();
  const label = opener.getAttribute?.("aria-label");
  if (label) document.querySelector(`[aria-label="${CSS.escape(label)}"]`)?.focus();
}

/** Ask before doing something that cannot be undone; true when confirmed. */
export function confirmDialog(title, message, confirmLabel) {
  return open(title, h("p", {}, message), confirmLabel, { danger: true });
}

/** Ask for one line of text; the text when saved, null when cancelled. */
export async function promptDialog(title, label, value) {
  const input = h("input", { type: "text", id: uid("prompt"), value, required: true, autocomplete: "off" });
  const body = h("div", { class: "field" }, h("label", { for: input.id }, label), input);
  const saved = await open(title, body, "Save", { initialFocus: input });
  return saved ? input.value : null;
}
