/** Form parts shared by the views: rows of keys and values (metadata, attributes, filters), chunking strategy. */

import { h, select, uid } from "./dom.js";

const OPERATORS = ["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"];
const TYPES = [
  ["string", "text"],
  ["number", "number"],
  ["boolean", "true/false"],
];

/** One typed value from its text; `in`/`nin` take a comma-separated list. Throws a readable error when invalid. */
export function typedValue(text, type, key, list = false) {
  if (list) return text.split(",").map((part) => typedValue(part.trim(), type, key));
  if (type === "number") {
    const number = Number(text);
    if (text.trim() === "" || !Number.isFinite(number)) throw new Error(`The value of '${key}' is not a number.`);
    return number;
  }
  if (type === "boolean") {
    if (!["true", "false"].includes(text.trim())) throw new Error(`The value of '${key}' must be true or false.`);
    return text.trim() === "true";
  }
  return text;
}

/**
 * Rows of key / value inputs, with a button to add a row and one to remove each.
 * With `typed`, each row also has a value type; with `operators`, a comparison operator.
 * `read()` gives the non-empty rows as {key, value, type, operator}.
 */
export function keyValueRows({ legend, addLabel, typed = false, operators = false, hint }) {
  const rows = h("div", { class: "rows" });
  const hintElement = hint ? h("p", { class: "hint" }, hint) : null;
  const add = h("button", { type: "button", class: "secondary", onclick: () => addRow(true) }, addLabel);
  const fieldset = h("fieldset", { class: "pairs" }, h("legend", {}, legend), hintElement, rows, add);

  function part(label, input) {
    input.id = uid("pair");
    return h("div", { class: "field" }, h("label", { for: input.id }, label), input);
  }

  function addRow(focus = false) {
    const key = h("input", { type: "text", name: "key", autocomplete: "off", maxlength: 64 });
    const row = h("div", { class: "pair-row" }, part("Key", key));
    if (operators)
      row.append(
        part(
          "Operator",
          select(
            OPERATORS.map((op) => [op, op]),
            "eq",
            { name: "operator" },
          ),
        ),
      );
    row.append(part("Value", h("input", { type: "text", name: "value", autocomplete: "off" })));
    if (typed) row.append(part("Type", select(TYPES, "string", { name: "type" })));
    const removeRow = () => {
      row.remove();
      add.focus();
    };
    row.append(h("button", { type: "button", class: "link remove", onclick: removeRow }, "Remove"));
    rows.append(row);
    if (focus) key.focus();
  }

  function read() {
    return [...rows.querySelectorAll(".pair-row")]
      .map((row) => ({
        key: row.querySelector("[name=key]").value.trim(),
        value: row.querySelector("[name=value]").value,
        type: row.querySelector("[name=type]")?.value ?? "string",
        operator: row.querySelector("[name=operator]")?.value ?? "eq",
      }))
      .filter((row) => row.key !== "");
  }

  function clear() {
    rows.replaceChildren();
  }

  return { element: fieldset, read, clear, addRow };
}

/** Attribute rows read as an object of typed values (null when empty). */
export function attributesOf(rows) {
  const entries = rows.read().map(({ key, value, type }) => [key, typedValue(value, type, key)]);
  return entries.length ? Object.fromEntries(entries) : null;
}

/** Radio buttons for auto or static chunking; `value()` is the API's chunking_strategy. */
export function chunkingFieldset(legend = "Chunking strategy") {
  const name = uid("chunking");
  const radio = (choice, label, checked) => {
    const input = h("input", { type: "radio", name, value: choice, id: uid("radio"), checked });
    return [input, h("div", { class: "choice" }, input, h("label", { for: input.id }, label))];
  };
  const [auto, autoChoice] = radio("auto", "Auto: 250 tokens with 50 of overlap, sized for the model", true);
  const [, staticChoice] = radio("static", "Static: sizes of my choice", false);
  const size = h("input", { type: "number", min: 100, max: 4096, value: 800, name: "max_chunk_size_tokens" });
  const overlap = h("input", { type: "number", min: 0, max: 2048, value: 400, name: "chunk_overlap_tokens" });
  const sizes = h(
    "div",
    { class: "inline-fields" },
    h("div", { class: "field" }, h("label", { for: (size.id = uid("size")) }, "Max tokens per chunk"), size),
    h("div", { class: "field" }, h("label", { for: (overlap.id = uid("overlap")) }, "Overlap tokens"), overlap),
  );
  const fieldset = h("fieldset", { class: "chunking" }, h("legend", {}, legend), autoChoice, staticChoice, sizes);
  const sync = () => {
    size.disabled = overlap.disabled = auto.checked;
  };
  fieldset.addEventListener("change", sync);
  sync();

  function value() {
    if (auto.checked) return { type: "auto" };
    return {
      type: "static",
      static: { max_chunk_size_tokens: Number(size.value), chunk_overlap_tokens: Number(overlap.value) },
    };
  }

  function reset() {
    auto.checked = true;
    sync();
  }

  return { element: fieldset, value, reset };
}
