/**
 * The charts view (#/charts): the tenant's files and storage per day (GET /v1/vector_stores/stats/daily), its
 * feedback per day and per store (GET /v1/feedback/stats), and search latency from the server's Prometheus counters.
 */

import * as api from "./api.js";
import { barChart, lineChart } from "./charts.js";
import { field, formatBytes, h, heading, select, showError } from "./dom.js";

const RANGES = [
  ["7", "Last 7 days"],
  ["30", "Last 30 days"],
  ["90", "Last 90 days"],
  ["365", "Last year"],
];

/** A day "2025-03-07" as "Mar 7" (UTC, as the server counts days). */
function shortDay(day) {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
}

/** Open the view in `main`. */
export function chartsView(main, params) {
  let days = RANGES.some(([value]) => value === params?.get("days")) ? params.get("days") : "30";
  const body = h("div", { class: "charts" });
  const range = select(RANGES, days, {
    onchange: (event) => {
      days = event.target.value;
      show();
    },
  });
  main.append(
    heading("Charts"),
    h("p", { class: "meta" }, "This key's tenant over time, by UTC day. Each chart can also be read as a table."),
    h("div", { class: "inline-fields controls" }, field("Period", range)),
    body,
  );

  async function show() {
    body.setAttribute("aria-busy", "true");
    try {
      const [daily, ratings, stores, metrics] = await Promise.all([
        api.get("/vector_stores/stats/daily", { days }),
        api.get("/feedback/stats", { days }),
        api.listAll("/vector_stores"),
        api.metrics().catch(() => null),
      ]);
      body.replaceChildren(
        h("section", { "aria-label": "Files and storage" }, h("h2", {}, "Files and storage"), storage(daily.days)),
        h("section", { "aria-label": "Feedback" }, h("h2", {}, "Feedback"), feedback(ratings, daily.days, stores)),
        h("section", { "aria-label": "Searches" }, h("h2", {}, "Searches"), searches(metrics)),
      );
    } catch (error) {
      body.replaceChildren(h("p", { class: "empty" }, "The statistics could not be read."));
      showError(error);
    } finally {
      body.removeAttribute("aria-busy");
    }
  }
  show();
}

function storage(days) {
  const labels = days.map((day) => shortDay(day.day));
  const last = days.at(-1);
  const uploaded = days.reduce((sum, day) => sum + day.files_added, 0);
  const note = h(
    "p",
    { class: "meta" },
    "Drawn from when each file that is stored now was uploaded: a deleted file leaves no history.",
  );
  return [
    note,
    h(
      "div",
      { class: "chart-grid" },
      lineChart({
        title: "Files stored",
        summary: `${last.files} at the end of today; ${uploaded} uploaded in the period.`,
        labels,
        series: [{ name: "Files", values: days.map((day) => day.files) }],
      }),
      lineChart({
        title: "Storage",
        summary: `${formatBytes(last.file_bytes)} of files, ${formatBytes(last.usage_bytes)} used in vector stores.`,
        labels,
        series: [
          { name: "Files' bytes", values: days.map((day) => day.file_bytes) },
          { name: "Vector store usage", values: days.map((day) => day.usage_bytes) },
        ],
        format: formatBytes,
      }),
      barChart({
        title: "Files uploaded per day",
        summary: `${uploaded} in the period, ${formatBytes(days.reduce((sum, day) => sum + day.bytes_added, 0))}.`,
        points: days.map((day) => ({
          label: shortDay(day.day),
          value: day.files_added,
          note: day.files_added ? formatBytes(day.bytes_added) : undefined,
        })),
        unit: "Files",
      }),
    ),
  ];
}

function feedback(ratings, days, stores) {
  const count = ratings.by_day.reduce((sum, day) => sum + day.count, 0);
  if (!count) return h("p", { class: "empty" }, "No answer was rated in this period.");
  const byDay = new Map(ratings.by_day.map((day) => [day.day, day]));
  const names = new Map(stores.map((store) => [store.id, store.name || store.id]));
  const mean = ratings.by_day.reduce((sum, day) => sum + day.mean_rating * day.count, 0) / count;
  const stars = (value) => `${value.toFixed(1)} ★`;
  return h(
    "div",
    { class: "chart-grid" },
    barChart({
      title: "Ratings per day",
      summary: `${count} ratings in the period, ${stars(mean)} on average.`,
      points: days.map((day) => {
        const rated = byDay.get(day.day);
        return { label: shortDay(day.day), value: rated?.count ?? 0, note: rated && `mean ${stars(rated.mean_rating)}` };
      }),
      unit: "Ratings",
    }),
    barChart({
      title: "Mean rating per vector store",
      summary: `Out of 5, over ${ratings.by_vector_store.length} stores searched for rated answers.`,
      points: ratings.by_vector_store.map((store) => ({
        label: names.get(store.vector_store_id) ?? store.vector_store_id,
        value: store.mean_rating,
        note: `${store.count} ratings`,
      })),
      format: (value) => (Number.isInteger(value) ? String(value) : value.toFixed(2)),
      unit: "Mean rating",
      least: 5,
    }),
  );
}

/** The search latency histogram of /metrics: [{le, count}] per bucket (not cumulative), summed over rankers. */
export function searchBuckets(text) {
  const cumulative = new Map();
  for (const line of text.split("\n")) {
    const found = line.match(/^ragstore_search_duration_seconds_bucket\{([^}]*)\}\s+(\S+)/);
    const le = found?.[1].match(/le="([^"]+)"/)?.[1];
    if (le) cumulative.set(le, (cumulative.get(le) ?? 0) + Number(found[2]));
  }
  const bounds = [...cumulative.keys()].sort((a, b) => Number(a) - Number(b)); // "+Inf" sorts last as Infinity
  return bounds.map((le, index) => ({
    le: Number(le),
    count: cumulative.get(le) - (index ? cumulative.get(bounds[index - 1]) : 0),
    below: cumulative.get(le),
  }));
}

function latency(seconds) {
  if (seconds === Infinity) return "slower";
  return seconds < 1 ? `≤ ${Math.round(seconds * 1000)} ms` : `≤ ${seconds} s`;
}

function searches(metrics) {
  const why = h(
    "p",
    { class: "meta" },
    "ragstore keeps no record of each search, only the Prometheus counters of the running server (GET /metrics), " +
      "for all its tenants together: so there is no chart of searches per day, only their latency since the " +
      "server started.",
  );
  if (metrics === null) return [why, h("p", { class: "empty" }, "The server's metrics could not be read.")];
  const buckets = searchBuckets(metrics);
  const total = buckets.at(-1)?.below ?? 0;
  if (!total) return [why, h("p", { class: "empty" }, "No search since the server started.")];
  const median = buckets.find((bucket) => bucket.below >= total / 2);
  return [
    why,
    h(
      "div",
      { class: "chart-grid" },
      barChart({
        title: "Search latency",
        summary: `${total} searches since the server started; half took ${latency(median.le)}.`,
        points: buckets.map((bucket) => ({ label: latency(bucket.le), value: bucket.count })),
        unit: "Searches",
      }),
    ),
  ];
}
