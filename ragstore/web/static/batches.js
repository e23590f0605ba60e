/** A store's file batches, followed live: their counts are polled until every file is done; a batch can be cancelled. */

import * as api from "./api.js";
import { act, announce, badge, h, time } from "./dom.js";

const POLL_MS = 1000;

const SHOWN = 100; // the newest batches shown; older ones are counted, not listed

function summary(counts) {
  const done = counts.completed + counts.failed + counts.cancelled;
  return (
    `${done} of ${counts.total} files processed: ${counts.completed} completed, ${counts.failed} failed, ` +
    `${counts.cancelled} cancelled, ${counts.in_progress} in progress`
  );
}

/** The batches section of a store's page; `changed()` is called whenever a batch's counts move. */
export class BatchBoard {
  constructor(storeId, changed) {
    this.storeId = storeId;
    this.changed = changed;
    this.cards = new Map();
    this.timer = null;
    this.active = true;
    this.list = h("div", { class: "batches" });
    this.empty = h("p", { class: "empty" }, "No batches in this store yet: add files above.");
    this.more = h("p", { class: "empty", hidden: true }, `Showing the newest ${SHOWN} batches.`);
    this.element = h(
      "section",
      { "aria-labelledby": "batches-heading" },
      h("h2", { id: "batches-heading" }, "File batches"),
      this.empty,
      this.list,
      this.more,
    );
  }

  /** Show the store's batches, made here or anywhere else (the server lists them), and follow those running. */
  async load() {
    const page = await api.get(`/vector_stores/${encodeURIComponent(this.storeId)}/file_batches`, { limit: SHOWN });
    [...page.data].reverse().forEach((batch) => this.show(batch)); // oldest first: each card goes on top
    this.more.hidden = !page.has_more;
    this.schedule();
  }

  /** A batch just created: shown first, then followed. */
  add(batch) {
    this.show(batch);
    this.schedule();
  }

  /** Stop polling: the page is being left. */
  stop() {
    this.active = false;
    clearTimeout(this.timer);
  }

  fetch(batchId) {
    return api.get(this.path(batchId));
  }

  path(batchId) {
    return `/vector_stores/${encodeURIComponent(this.storeId)}/file_batches/${encodeURIComponent(batchId)}`;
  }

  running() {
    return [...this.cards.values()].filter((card) => card.batch?.status === "in_progress");
  }

  schedule() {
    clearTimeout(this.timer);
    if (this.active && this.running().length) this.timer = setTimeout(() => this.poll(), POLL_MS);
  }

  async poll() {
    const running = this.running();
    const results = await Promise.allSettled(running.map((card) => this.fetch(card.batch.id)));
    let moved = false;
    results.forEach((result, index) => {
      if (result.status === "rejected") {
        running[index].fail(result.reason);
        return;
      }
      moved ||= summary(result.value.file_counts) !== summary(running[index].batch.file_counts);
      this.show(result.value);
    });
    if (moved && this.active) this.changed();
    this.schedule();
  }

  async cancel(button, batchId) {
    await act(button, async () => {
      this.show(await api.post(`${this.path(batchId)}/cancel`));
      this.changed();
    });
  }

  /** The card of a batch, made (newest first) on first sight. */
  card(batchId) {
    if (!this.cards.has(batchId)) {
      const card = new BatchCard(batchId, (button) => this.cancel(button, batchId));
      this.cards.set(batchId, card);
      this.list.prepend(card.element);
      this.empty.hidden = true;
    }
    return this.cards.get(batchId);
  }

  show(batch) {
    this.card(batch.id).update(batch);
  }
}

/** One batch: its status, a progress bar and its counts (a polite live region), and a cancel button. */
class BatchCard {
  constructor(batchId, cancel) {
    const headingId = `heading-${batchId}`;
    this.batch = null;
    this.status = h("span", {});
    this.created = h("p", { class: "meta" });
    this.progress = h("progress", { max: 1, value: 0, "aria-label": `Progress of batch ${batchId}` });
    this.counts = h("p", { class: "counts", "aria-live": "polite" });
    this.error = h("p", { class: "error-text", role: "status", hidden: true });
    this.cancelButton = h("button", { type: "button", class: "danger", onclick: (e) => cancel(e.currentTarget) });
    this.cancelButton.append("Cancel batch");
    this.element = h(
      "article",
      { class: "batch card", "aria-labelledby": headingId },
      h("div", { class: "batch-head" }, h("h3", { id: headingId }, "Batch ", h("code", {}, batchId)), this.status),
      this.created,
      this.progress,
      this.counts,
      this.error,
      h("div", { class: "actions" }, this.cancelButton),
    );
  }

  /** Show the batch's latest state; screen readers hear when its status changes. */
  update(batch) {
    const counts = batch.file_counts;
    if (this.batch && this.batch.status !== batch.status) {
      announce(`Batch ${batch.id} ${batch.status.replace("_", " ")}: ${summary(counts)}.`);
    }
    if (!this.batch) this.created.replaceChildren("Created ", time(batch.created_at));
    this.batch = batch;
    this.status.replaceChildren(badge(batch.status));
    this.progress.max = counts.total || 1;
    this.progress.value = counts.completed + counts.failed + counts.cancelled;
    const text = summary(counts);
    if (this.counts.textContent !== text) this.counts.textContent = text;
    this.cancelButton.hidden = batch.status !== "in_progress";
    this.error.hidden = true;
  }

  fail(error) {
    this.error.textContent = error.message;
    this.error.hidden = false;
  }
}
