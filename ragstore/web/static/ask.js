/** Ask: a question to the chosen stores through /v1/responses (file_search), the answer with its citations, and a
 * rating sent as feedback. The questions of one visit form one conversation, so follow-ups keep their context. */

import * as api from "./api.js";
import { contextHref, placeHits, placeText } from "./chunks.js";
import { act, announce, clearError, field, h, heading, uid } from "./dom.js";
import { storePicker } from "./storepick.js";

/** Open the view in `main`; `params` may name a store to preselect (?store=vs_...). */
export function askView(main, params) {
  const question = h("textarea", { name: "question", rows: 3, required: true, autocomplete: "off" });
  const stores = storePicker(params.get("store"));
  const count = h("input", { type: "number", min: 1, max: 50, value: 5, name: "max_num_results" });
  const submit = h("button", { type: "submit" }, "Ask");
  const restart = h("button", { type: "button", class: "secondary", hidden: true }, "New conversation");
  const thread = h("ol", { class: "answers", "aria-label": "Answers" });
  const form = h(
    "form",
    { class: "card", "aria-label": "Ask a question" },
    field("Question", question),
    stores.element,
    field("Passages to search for", count, "The answer is made from these (1 to 50)."),
    h("div", { class: "actions" }, submit, restart),
  );
  main.append(heading("Ask"), h("div", { class: "playground" }, form, h("section", { class: "results" }, thread)));
  const state = { conversation: null };

  restart.addEventListener("click", () => {
    state.conversation = null;
    thread.replaceChildren();
    restart.hidden = true;
    announce("A new conversation starts with the next question.");
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    await act(submit, async () => {
      const chosen = stores.chosen();
      if (!chosen.length) throw new Error("Choose at least one vector store to ask.");
      const text = question.value.trim();
      if (!text) throw new Error("Write a question first.");
      state.conversation ??= await api.post("/conversations", { title: text.slice(0, 200) });
      const answer = await ask(text, chosen, Number(count.value), state.conversation.id);
      thread.append(answerItem(text, answer, new Map(chosen.map((store) => [store.id, store.name]))));
      restart.hidden = false;
      question.value = "";
      announce(`Answered, with ${answer.sources.length} source${answer.sources.length === 1 ? "" : "s"}.`);
      thread.lastElementChild.querySelector(".answer-text").focus();
    });
  });
}

/** The response to one question, with the passages its message used (their stores and places in their files). */
async function ask(text, stores, limit, conversationId) {
  const response = await api.post("/responses", {
    model: "ragstore",
    input: text,
    conversation: conversationId,
    tools: [{ type: "file_search", vector_store_ids: stores.map((store) => store.id), max_num_results: limit }],
    include: ["file_search_call.results"],
  });
  const message = response.output.find((item) => item.type === "message");
  const item = await api.get(
    `/conversations/${encodeURIComponent(conversationId)}/items/${encodeURIComponent(message.id)}`,
  );
  const used = item.context_used ?? [];
  const places = await placeHits(used.map((p) => ({ store: p.vector_store_id, file_id: p.file_id, text: p.excerpt })));
  const output = message.content[0] ?? { text: "", annotations: [] };
  return {
    id: response.id,
    model: response.model,
    text: output.text,
    cited: new Set(output.annotations.map((note) => note.file_id)),
    sources: used.map((passage, n) => ({ ...passage, place: places[n] })),
  };
}

/** The answer's text, each [n] a link to source n's passage in its file. */
function answerText(answer) {
  const parts = [];
  let last = 0;
  for (const match of answer.text.matchAll(/\[(\d+)\]/g)) {
    const source = answer.sources[Number(match[1]) - 1];
    if (!source) continue;
    parts.push(answer.text.slice(last, match.index));
    const href = contextHref(source.vector_store_id, source.file_id, source.place?.index);
    parts.push(h("a", { href, class: "cite", title: source.filename }, match[0]));
    last = match.index + match[0].length;
  }
  parts.push(answer.text.slice(last));
  return h("p", { class: "answer-text", tabindex: "-1" }, parts);
}

function answerItem(question, answer, storeNames) {
  const sources = answer.sources.map((source, n) => {
    const href = contextHref(source.vector_store_id, source.file_id, source.place?.index);
    const place = placeText(source.place);
    return h(
      "li",
      { class: "source" },
      h("span", { class: "score", title: "score" }, source.score.toFixed(3)),
      " ",
      h("a", { href, class: "filename" }, `[${n + 1}] ${source.filename}`),
      h("small", {}, ` in ${storeNames.get(source.vector_store_id) ?? source.vector_store_id}${place ? `, ${place}` : ""}`),
      answer.cited.has(source.file_id) ? h("span", { class: "chip" }, "cited") : null,
      h("blockquote", {}, source.excerpt),
    );
  });
  return h(
    "li",
    { class: "answer card" },
    h("p", { class: "question" }, h("strong", {}, "Q: "), question),
    answerText(answer),
    h("p", { class: "meta" }, `${answer.model} · `, h("code", {}, answer.id)),
    sources.length
      ? h(
          "details",
          { class: "context", open: true },
          h("summary", {}, `Sources (${sources.length})`),
          h("ol", {}, sources),
        )
      : h("p", { class: "meta" }, "No passage found: the stores hold nothing on this."),
    ratingForm(answer.id),
  );
}

/** Rate the answer 1 to 5 (and say why): POST /v1/responses/{id}/feedback; a new rating replaces the last. */
function ratingForm(responseId) {
  const name = uid("rating");
  const stars = [1, 2, 3, 4, 5].map((value) => {
    const radio = h("input", { type: "radio", name, value, id: `${name}-${value}`, required: true });
    return h("span", { class: "choice" }, radio, h("label", { for: radio.id }, `${value}`));
  });
  const comment = h("input", { type: "text", name: "comment", maxlength: 4000, autocomplete: "off" });
  const send = h("button", { type: "submit", class: "secondary" }, "Send rating");
  const done = h("p", { class: "meta", role: "status" });
  const form = h(
    "form",
    { class: "rating", "aria-label": "Rate this answer" },
    h("fieldset", { class: "stars" }, h("legend", {}, "Rating (1 poor, 5 excellent)"), stars),
    field("Comment (optional)", comment),
    h("div", { class: "actions" }, send),
    done,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await act(send, async () => {
      const rating = Number(form.querySelector("input[type=radio]:checked").value);
      const body = { rating };
      if (comment.value.trim()) body.comment = comment.value.trim();
      await api.post(`/responses/${encodeURIComponent(responseId)}/feedback`, body);
      done.textContent = `Thanks: rated ${rating} of 5.`;
    });
  });
  return form;
}
