/**
 * Small charts drawn as hand-written SVG (no library): bars and lines over labelled points, with axes, a tooltip per
 * point (<title>) and, for those who would rather read, the same numbers in a table under "Show the numbers".
 */

import { h, uid } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 220;
const MARGIN = { top: 12, right: 12, bottom: 28, left: 64 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;

/** An SVG element with attributes; children are SVG elements or text. */
function s(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.append(...children);
  return element;
}

/** A round top for the y axis (1, 2 or 5 times a power of ten) and its ticks, 0 included; whole steps for counts. */
export function scale(max, whole = false) {
  if (!(max > 0)) return { top: 1, ticks: [0, 1] };
  const power = 10 ** Math.floor(Math.log10(max));
  const steps = [0.2, 0.5, 1, 2].map((f) => f * power).filter((candidate) => !whole || candidate >= 1);
  const step = steps.find((candidate) => max / candidate <= 5) ?? steps.at(-1) ?? 1;
  const top = Math.ceil(max / step) * step;
  const ticks = [];
  for (let tick = 0; tick <= top + step / 2; tick += step) ticks.push(Number(tick.toPrecision(12)));
  return { top, ticks };
}

function yOf(value, top) {
  return MARGIN.top + PLOT_H - (value / top) * PLOT_H;
}

/** The y axis: grid lines and tick labels. */
function yAxis(ticks, top, format) {
  return ticks.map((tick) =>
    s(
      "g",
      { class: "tick" },
      s("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: yOf(tick, top), y2: yOf(tick, top) }),
      s("text", { x: MARGIN.left - 6, y: yOf(tick, top) + 4, "text-anchor": "end" }, format(tick)),
    ),
  );
}

/** Labels under the x axis: at most about eight, evenly spread, the last always shown; `edges` keeps the first and
 * last inside the drawing (for lines, whose end points sit on its edges). */
function xLabels(labels, xAt, edges = false) {
  const every = Math.max(1, Math.ceil(labels.length / 8));
  const last = labels.length - 1;
  const shown = (index) => index === last || (index % every === 0 && last - index >= every * 0.6);
  const anchor = (index) => {
    if (!edges || labels.length < 3) return "middle";
    return index === 0 ? "start" : index === last ? "end" : "middle";
  };
  return labels.flatMap((label, index) =>
    shown(index)
      ? [s("text", { class: "x-label", x: xAt(index), y: HEIGHT - 8, "text-anchor": anchor(index) }, label)]
      : [],
  );
}

/** The figure around a chart: its caption, the drawing, a legend when there are series, and the numbers. */
function figure(title, summary, svg, legend, numbers) {
  const captionId = uid("chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${title}: ${summary}`);
  svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  return h(
    "figure",
    { class: "chart card", "aria-labelledby": captionId },
    h("figcaption", { id: captionId }, h("strong", {}, title), h("span", { class: "meta" }, ` ${summary}`)),
    svg,
    legend,
    h("details", { class: "numbers" }, h("summary", {}, "Show the numbers"), numbers),
  );
}

function numbersTable(title, columns, rows) {
  return h(
    "table",
    {},
    h("caption", { class: "visually-hidden" }, title),
    h("thead", {}, h("tr", {}, columns.map((name) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell))))),
  );
}

/**
 * Bars, one per point {label, value, note}: `note` (optional) is added to the point's tooltip and table row.
 * `format` writes a value (axis, tooltip, table); `summary` is one line said under the title and to screen readers;
 * `whole` keeps the axis' steps whole (counts); `least` is the lowest top of the axis (5 for ratings out of 5).
 */
export function barChart({ title, summary, points, format = String, unit = "Value", whole = format === String, least = 0 }) {
  const { top, ticks } = scale(Math.max(least, ...points.map((point) => point.value)), whole);
  const slot = PLOT_W / Math.max(1, points.length);
  const xAt = (index) => MARGIN.left + slot * index + slot / 2;
  const bars = points.map((point, index) => {
    const y = yOf(point.value, top);
    const text = `${point.label}: ${format(point.value)}${point.note ? ` (${point.note})` : ""}`;
    const width = Math.min(48, Math.max(1, slot * 0.7));
    const attributes = { class: "bar", x: xAt(index) - width / 2, y, width, height: MARGIN.top + PLOT_H - y };
    return s("rect", attributes, s("title", {}, text));
  });
  const svg = s(
    "svg",
    { class: "bars" },
    ...yAxis(ticks, top, format),
    ...bars,
    ...xLabels(
      points.map((point) => point.label),
      xAt,
    ),
  );
  const noted = points.some((point) => point.note);
  const rows = points.map((point) => [point.label, format(point.value), ...(noted ? [point.note ?? ""] : [])]);
  return figure(title, summary, svg, null, numbersTable(title, ["", unit, ...(noted ? ["Note"] : [])], rows));
}

/** Lines over shared labels: series [{name, values}] (the same length as labels), drawn in the order given. */
export function lineChart({ title, summary, labels, series, format = String, whole = format === String }) {
  const { top, ticks } = scale(Math.max(0, ...series.flatMap((line) => line.values)), whole);
  const xAt = (index) => MARGIN.left + (labels.length > 1 ? (PLOT_W * index) / (labels.length - 1) : PLOT_W / 2);
  const lines = series.map((line, n) => {
    const points = line.values.map((value, index) => `${xAt(index).toFixed(1)},${yOf(value, top).toFixed(1)}`);
    const dots = line.values.map((value, index) =>
      s(
        "circle",
        { cx: xAt(index), cy: yOf(value, top), r: 2.5 },
        s("title", {}, `${labels[index]}: ${line.name} ${format(value)}`),
      ),
    );
    return s("g", { class: `series series-${n}` }, s("polyline", { points: points.join(" ") }), ...dots);
  });
  const svg = s("svg", { class: "lines" }, ...yAxis(ticks, top, format), ...lines, ...xLabels(labels, xAt, true));
  const legend = h(
    "ul",
    { class: "legend" },
    series.map((line, n) => h("li", { class: `series-${n}` }, line.name)),
  );
  const rows = labels.map((label, index) => [label, ...series.map((line) => format(line.values[index]))]);
  return figure(title, summary, svg, legend, numbersTable(title, ["", ...series.map((line) => line.name)], rows));
}
