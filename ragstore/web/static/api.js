/** The /v1 API of the server that serves this page, called with the API key kept for this browser session. */

const KEY = "ragstore.apiKey";

export function apiKey() {
  return sessionStorage.getItem(KEY) ?? "";
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

/** A failed request, with the message of the server's error envelope {"error": {message, type, param, code}}. */
class ApiError extends Error {
  constructor(message, status, error = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = error.code ?? null;
    this.param = error.param ?? null;
  }
}

/** The URL of an API path: relative to the page, so that a server behind a path prefix works too. */
function url(path, query = {}) {
  const target = new URL(`../v1${path}`, document.baseURI);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") target.searchParams.set(name, value);
  }
  return target;
}

/** Send one request; resolve to the JSON body, or reject with an ApiError carrying the server's message. */
async function request(method, path, { query, json, form } = {}) {
  const headers = {};
  const key = apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let body = form;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(url(path, query), { method, headers, body });
  } catch {
    throw new ApiError("Could not reach the ragstore server: is it running?", 0);
  }
  const payload = await response.json().catch(() => null);
  if (!response.ok) {
    const error = payload?.error ?? {};
    const message = error.message ?? `The server answered ${response.status} ${response.statusText}.`;
    throw new ApiError(message, response.status, error);
  }
  return payload;
}

export const get = (path, query) => request("GET", path, { query });
export const post = (path, json = {}) => request("POST", path, { json });
export const remove = (path) => request("DELETE", path);

/** Upload one file for use in vector stores (POST /v1/files, purpose "assistants"). */
export function uploadFile(file) {
  const form = new FormData();
  form.append("purpose", "assistants");
  form.append("file", file, file.name);
  return request("POST", "/files", { form });
}

/** Save a file's original bytes (GET /v1/files/{id}/content, which needs the key: a plain link cannot send it). */
export async function download(fileId, filename) {
  const headers = {};
  const key = apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch(url(`/files/${encodeURIComponent(fileId)}/content`), { headers });
  } catch {
    throw new ApiError("Could not reach the ragstore server: is it running?", 0);
  }
  if (!response.ok) {
    const error = (await response.json().catch(() => null))?.error ?? {};
    throw new ApiError(error.message ?? `The server answered ${response.status}.`, response.status, error);
  }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

/** Every item of a list endpoint, following `after` cursors, up to `max` items. */
export async function listAll(path, query = {}, max = 1000) {
  const items = [];
  let after;
  do {
    const page = await get(path, { ...query, limit: 100, after });
    items.push(...page.data);
    after = page.has_more ? page.last_id : undefined;
  } while (after && items.length < max);
  return items;
}
