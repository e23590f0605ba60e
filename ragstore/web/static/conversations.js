/** Conversations, read-only: the list (by user, paginated), and one conversation's messages with the context each
 * answer used and the feedback it got. */

import * as api from "./api.js";
import { Pages, chips, field, h, heading, newestOnly, select, showError, table, time } from "./dom.js";

/** Open the list of conversations in `main`. */
export function conversationsView(main) {
  const state = { user_id: "", order: "desc" };
  const pages = new Pages("Conversation pages", () => show());
  const user = h("input", { type: "text", name: "user_id", autocomplete: "off" });
  const order = select(
    [
      ["desc", "Newest first"],
      ["asc", "Oldest first"],
    ],
    "desc",
  );
  const submit = h("button", { type: "submit", class: "secondary" }, "Show");
  const form = h(
    "form",
    { class: "inline-fields controls", "aria-label": "Filter conversations" },
    field("User ID", user),
    field("Order", order),
    h("div", { class: "actions" }, submit),
  );
  const rows = h("div", {});
  main.append(heading("Conversations"), form, h("section", { "aria-label": "Conversation list" }, rows, pages.element));

  const draw = newestOnly(rows);
  function show() {
    return draw(
      () => api.get("/conversations", { ...state, limit: 20, after: pages.after }),
      (page) => {
        rows.replaceChildren(
          page.data.length ? conversationTable(page.data) : h("p", { class: "empty" }, "No conversations."),
        );
        pages.show(page);
      },
      (error) => {
        rows.replaceChildren(h("p", { class: "empty" }, "The conversations could not be listed."));
        showError(error);
      },
    );
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    Object.assign(state, { user_id: user.value.trim(), order: order.value });
    pages.reset();
    show();
  });
  show();
}

function conversationTable(conversations) {
  const rows = conversations.map((conversation) => [
    h("a", { href: `#/conversations/${encodeURIComponent(conversation.id)}` }, conversation.title || "Untitled"),
    conversation.user_id ?? "—",
    chips(conversation.metadata),
    time(conversation.created_at),
    time(conversation.updated_at),
  ]);
  return table("Conversations", ["Title", "User", "Metadata", "Started", "Updated"], rows);
}

/** Open one conversation in `main`: its messages in order, a page of 50 at a time. */
export function conversationView(main, conversationId) {
  const path = `/conversations/${encodeURIComponent(conversationId)}`;
  const title = heading(conversationId);
  const about = h("p", { class: "meta" });
  const messages = h("ol", { class: "messages" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Load more messages");
  main.append(h("p", {}, h("a", { href: "#/conversations" }, "← All conversations")), title, about, messages, more);
  let after;

  const storeNames = api
    .listAll("/vector_stores")
    .then((stores) => new Map(stores.map((store) => [store.id, store.name || store.id])))
    .catch(() => new Map());

  async function showConversation() {
    const conversation = await api.get(path);
    title.textContent = conversation.title || "Untitled conversation";
    document.title = `${title.textContent} · ragstore`;
    about.replaceChildren(
      h("code", {}, conversation.id),
      conversation.user_id ? ` · user ${conversation.user_id}` : "",
      " · started ",
      time(conversation.created_at),
      " ",
      chips(conversation.metadata),
    );
  }

  async function showMessages() {
    const [page, names] = await Promise.all([api.get(`${path}/items`, { order: "asc", limit: 50, after }), storeNames]);
    messages.append(...page.data.map((item) => message(item, names)));
    after = page.last_id;
    more.hidden = !page.has_more;
    if (!messages.children.length) messages.replaceWith(h("p", { class: "empty" }, "No messages yet."));
  }

  more.addEventListener("click", () => showMessages().catch(showError));
  Promise.all([showConversation(), showMessages()]).catch(showError);
}

function message(item, storeNames) {
  const text = item.content.map((part) => part.text).join("\n");
  const assistant = item.role === "assistant";
  return h(
    "li",
    { class: `message message-${item.role}` },
    h(
      "div",
      { class: "message-head" },
      h("strong", {}, item.role),
      " ",
      time(item.created_at),
      item.model ? h("small", {}, ` · ${item.model}`) : null,
    ),
    h("p", { class: "message-text" }, text),
    assistant ? contextUsed(item.context_used ?? [], storeNames) : null,
    assistant ? feedback(item.feedback) : null,
  );
}

function contextUsed(passages, storeNames) {
  if (!passages.length) return h("p", { class: "meta" }, "No context used.");
  const items = passages.map((passage) =>
    h(
      "li",
      {},
      h("span", { class: "score" }, passage.score.toFixed(3)),
      " ",
      h("strong", {}, passage.filename),
      h("small", {}, ` in ${storeNames.get(passage.vector_store_id) ?? passage.vector_store_id}`),
      h("blockquote", {}, passage.excerpt),
    ),
  );
  return h(
    "details",
    { class: "context" },
    h("summary", {}, `Context used (${passages.length} passage${passages.length === 1 ? "" : "s"})`),
    h("ol", {}, items),
  );
}

function feedback(given) {
  if (!given) return h("p", { class: "feedback meta" }, "No feedback.");
  const stars = "★".repeat(given.rating) + "☆".repeat(5 - given.rating);
  return h(
    "p",
    { class: "feedback" },
    h("span", { "aria-hidden": "true" }, `${stars} `),
    `Rated ${given.rating} of 5`,
    given.comment ? `: “${given.comment}”` : "",
  );
}
