/** Building the page safely: text always enters the document as text nodes, never as HTML. */

let counter = 0;

/** A new element: props become attributes (functions under on* become listeners); children are nodes or text. */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...nodes(children));
  return element;
}

function nodes(children) {
  return children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false);
}

/** A document-unique id, for tying labels to their inputs. */
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** A label and its input, side by side in one field. */
export function field(label, input, hint) {
  input.id ||= uid("field");
  const hintElement = hint ? h("small", { id: `${input.id}-hint`, class: "hint" }, hint) : null;
  if (hintElement) input.setAttribute("aria-describedby", hintElement.id);
  return h("div", { class: "field" }, h("label", { for: input.id }, label), input, hintElement);
}

/** A <select> of [value, label] options. */
export function select(options, selected, props = {}) {
  return h(
    "select",
    props,
    options.map(([value, label]) => h("option", { value, selected: value === selected }, label)),
  );
}

/** A heading that takes the focus when the view opens (tabindex -1: focusable by script only). */
export function heading(text) {
  return h("h1", { tabindex: "-1", class: "view-heading" }, text);
}

/** Show an API (or input) error in the page's alert banner; it stays until dismissed or the view changes. */
export function showError(error) {
  const banner = document.getElementById("error");
  const close = h("button", { type: "button", class: "link", onclick: clearError }, "Dismiss");
  banner.replaceChildren(h("p", {}, error.message ?? String(error)), close);
  banner.hidden = false;
}

export function clearError() {
  const banner = document.getElementById("error");
  banner.replaceChildren();
  banner.hidden = true;
}

/** Say something to screen-reader users (the page's polite live region). */
export function announce(text) {
  document.getElementById("announcer").textContent = text;
}

/** Run an async action from a button or form: the control is disabled meanwhile; failures go to the banner. */
export async function act(control, action) {
  control.disabled = true;
  try {
    return await action();
  } catch (error) {
    showError(error);
    return undefined;
  } finally {
    control.disabled = false;
  }
}

export function formatBytes(bytes) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit ? value.toFixed(1) : value} ${units[unit]}`;
}

/** A <time> element for a Unix timestamp in seconds (or a dash when there is none); the year only if not this one. */
export function time(seconds) {
  if (!seconds) return h("span", {}, "—");
  const moment = new Date(seconds * 1000);
  const options = { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" };
  if (moment.getFullYear() !== new Date().getFullYear()) options.year = "numeric";
  return h("time", { datetime: moment.toISOString() }, moment.toLocaleString(undefined, options));
}

/** A status shown as a coloured badge whose text is the status itself. */
export function badge(status) {
  return h("span", { class: `badge badge-${status}` }, status.replace("_", " "));
}

/** Key-value pairs (metadata, attributes) as a list of small chips. */
export function chips(pairs) {
  return Object.entries(pairs ?? {}).map(([key, value]) => h("span", { class: "chip" }, `${key}: ${value}`));
}

/** A table whose cells carry their column name, so that narrow screens can show each row as a card. */
export function table(caption, columns, rows) {
  const head = h(
    "thead",
    {},
    h(
      "tr",
      {},
      columns.map((name) => h("th", { scope: "col" }, name)),
    ),
  );
  const body = h(
    "tbody",
    {},
    rows.map((cells) =>
      h(
        "tr",
        {},
        cells.map((cell, index) => h("td", { "data-label": columns[index] }, cell)),
      ),
    ),
  );
  return h(
    "div",
    { class: "table-wrap" },
    h("table", {}, h("caption", { class: "visually-hidden" }, caption), head, body),
  );
}

/**
 * Previous / next page buttons for a cursor-paginated list. The `after` cursor of each page visited is kept, so going
 * back needs no `before`. The buttons stay in place between pages, so the keyboard focus does too.
 */
export class Pages {
  constructor(label, reload) {
    this.cursors = [undefined];
    this.list = null;
    const button = (text, move) => {
      const onclick = () => {
        move();
        reload();
      };
      return h("button", { type: "button", class: "secondary", disabled: true, onclick }, text);
    };
    this.previous = button("Previous page", () => this.cursors.pop());
    this.next = button("Next page", () => this.cursors.push(this.list.last_id));
    this.number = h("span", { class: "page-number" });
    this.element = h("nav", { class: "pager", "aria-label": label }, this.previous, this.number, this.next);
  }

  /** Back to the first page (the list's order or filter changed). */
  reset() {
    this.cursors = [undefined];
  }

  get after() {
    return this.cursors.at(-1);
  }

  /** The page just fetched: enable the moves it allows. */
  show(list) {
    this.list = list;
    this.previous.disabled = this.cursors.length === 1;
    this.next.disabled = !list.has_more;
    this.number.textContent = `Page ${this.cursors.length}`;
  }
}

/**
 * Loads that draw into one region, where only the newest may draw: an order changed twice quickly, or a refresh
 * overtaken by a new page, never shows the older answer. The region is aria-busy while a load is on its way.
 */
export function newestOnly(region) {
  let latest = 0;
  return async (load, draw, fail) => {
    const ticket = ++latest;
    const newest = () => ticket === latest;
    region.setAttribute("aria-busy", "true");
    try {
      const data = await load();
      if (newest()) draw(data);
    } catch (error) {
      if (newest()) fail(error);
    } finally {
      if (newest()) region.removeAttribute("aria-busy");
    }
  };
}
