/** The search playground: a query over one or more stores, attribute filters, ranker and threshold. */

import * as api from "./api.js";
import { contextHref, placeHits, placeText } from "./chunks.js";
import { act, announce, chips, field, h, heading, select } from "./dom.js";
import { keyValueRows, typedValue } from "./fields.js";
import { storePicker } from "./storepick.js";

// Words too common to be worth highlighting.
const STOP_WORDS = new Set(
  "a an and are as at be by do for from how i in is it of on or the to what when where who".split(" "),
);

/** The query's words, to highlight in the results. */
function queryTerms(query) {
  const words = query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words.filter((word) => word.length > 1 && !STOP_WORDS.has(word)))];
}

/** The text as text nodes, with each word that starts with a query term wrapped in <mark>. */
function highlighted(text, terms) {
  if (!terms.length) return [text];
  const escaped = terms.map((term) => term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])(?:${escaped.join("|")})[\\p{L}\\p{N}]*`, "giu");
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    parts.push(text.slice(last, match.index), h("mark", {}, match[0]));
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}

/** The API's filter from the rows: one comparison, or all (or any) of them. */
function filterOf(rows, combine) {
  const comparisons = rows.read().map(({ key, operator, value, type }) => ({
    type: operator,
    key,
    value: typedValue(value, type, key, operator === "in" || operator === "nin"),
  }));
  if (comparisons.length < 2) return comparisons[0];
  return { type: combine, filters: comparisons };
}

/** Open the view in `main`; `params` may name a store to preselect (?store=vs_...). */
export function searchView(main, params) {
  const query = h("input", { type: "search", name: "query", required: true, autocomplete: "off" });
  const stores = storePicker(params.get("store"));
  const filters = keyValueRows({ legend: "Attribute filters", addLabel: "Add filter", typed: true, operators: true });
  const combine = select(
    [
      ["and", "all filters (and)"],
      ["or", "any filter (or)"],
    ],
    "and",
  );
  const ranker = select(
    [
      ["auto", "auto (hybrid: dense + keywords)"],
      ["none", "none (dense only)"],
      ["lexical", "lexical (keywords only)"],
    ],
    "auto",
  );
  const threshold = h("input", { type: "number", min: 0, max: 1, step: 0.01, value: 0, name: "score_threshold" });
  const count = h("input", { type: "number", min: 1, max: 50, value: 10, name: "max_num_results" });
  const submit = h("button", { type: "submit" }, "Search");
  const results = h(
    "section",
    { "aria-labelledby": "results-heading", class: "results" },
    h("h2", { id: "results-heading" }, "Results"),
    h("p", { class: "empty" }, "Results appear here."),
  );
  const form = h(
    "form",
    { class: "card", role: "search", "aria-label": "Search vector stores" },
    field("Query", query),
    stores.element,
    filters.element,
    h("div", { class: "inline-fields" }, field("Combine", combine), field("Ranker", ranker)),
    h("div", { class: "inline-fields" }, field("Score threshold (0 to 1)", threshold), field("Max results", count)),
    h("div", { class: "actions" }, submit),
  );
  main.append(heading("Search"), h("div", { class: "playground" }, form, results));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await act(submit, async () => {
      const chosen = stores.chosen();
      if (!chosen.length) throw new Error("Choose at least one vector store to search.");
      const body = {
        query: query.value,
        max_num_results: Number(count.value),
        ranking_options: { ranker: ranker.value, score_threshold: Number(threshold.value) },
      };
      const filter = filterOf(filters, combine.value);
      if (filter) body.filters = filter;
      const answers = await Promise.allSettled(
        chosen.map((store) => api.post(`/vector_stores/${encodeURIComponent(store.id)}/search`, body)),
      );
      await showResults(results, chosen, answers, query.value, body.max_num_results, ranker.value);
    });
  });
}

const hitText = (hit) => hit.content.map((part) => part.text).join("\n");

/** What a score means, per ranker: one line above the results. */
const SCORES = {
  auto:
    "Score: the cosine similarity of the embeddings, blended with the keyword score (up to 0.7 of it) when the " +
    "query holds a word few chunks hold; the same number means the same on any query.",
  none: "Score: the cosine similarity of the query's and the chunk's embeddings (below 0 shown as 0).",
  lexical: "Score: the share of the query's keyword weight (BM25 over its idf mass) the chunk matches, 0 to 1.",
};

async function showResults(section, stores, answers, query, limit, ranker) {
  const hits = [];
  const failures = [];
  answers.forEach((answer, index) => {
    const store = stores[index];
    if (answer.status === "fulfilled") hits.push(...answer.value.data.map((hit) => ({ ...hit, store })));
    else failures.push(h("p", { class: "error-text" }, `${store.name}: ${answer.reason.message}`));
  });
  hits.sort((a, b) => b.score - a.score);
  const shown = hits.slice(0, limit);
  const located = shown.map((hit) => ({ store: hit.store.id, file_id: hit.file_id, text: hitText(hit) }));
  const places = await placeHits(located);
  const terms = queryTerms(query);
  const where = stores.length === 1 ? "1 store" : `${stores.length} stores`;
  const summary = `${shown.length} result${shown.length === 1 ? "" : "s"} from ${where} for “${query}”.`;
  announce(summary);
  section.replaceChildren(
    h("h2", { id: "results-heading" }, "Results"),
    h("p", { class: "meta" }, summary),
    h("p", { class: "meta score-explained" }, SCORES[ranker] ?? SCORES.auto),
    ...failures,
    shown.length
      ? h(
          "ol",
          { class: "hits" },
          shown.map((hit, n) => result(hit, terms, places[n])),
        )
      : h("p", { class: "empty" }, "No results."),
  );
}

function result(hit, terms, place) {
  const text = hitText(hit);
  const href = contextHref(hit.store.id, hit.file_id, place?.index);
  return h(
    "li",
    { class: "hit card" },
    h(
      "div",
      { class: "hit-head" },
      h("span", { class: "score", title: "score" }, hit.score.toFixed(3)),
      h("strong", { class: "filename" }, hit.filename),
      h("small", {}, h("code", {}, hit.file_id), ` in ${hit.store.name}`),
      place ? h("small", { class: "place" }, placeText(place)) : null,
      h("a", { href, class: "context-link", "aria-label": `Open ${hit.filename} at this passage` }, "Open in file"),
    ),
    hit.attributes ? h("div", { class: "chips" }, chips(hit.attributes)) : null,
    h("p", { class: "hit-text" }, highlighted(text, terms)),
  );
}
