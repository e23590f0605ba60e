/** The page's entry: the API key form, and routing between views by the URL's hash (#/stores, #/search, ...). */

import { apiKey, setApiKey } from "./api.js";
import { askView } from "./ask.js";
import { announce, clearError, h, heading } from "./dom.js";
import { conversationView, conversationsView } from "./conversations.js";
import { storeView } from "./files.js";
import { storeFileView } from "./storefile.js";
import { filesView } from "./tenantfiles.js";
import { searchView } from "./search.js";
import { storesView } from "./stores.js";

const ROUTES = [
  [/^stores$/, storesView],
  [/^stores\/([^/]+)$/, storeView],
  [/^stores\/([^/]+)\/files\/([^/]+)$/, storeFileView],
  [/^files$/, filesView],
  [/^search$/, searchView],
  [/^ask$/, askView],
  [/^conversations$/, conversationsView],
  [/^conversations\/([^/]+)$/, conversationView],
];

const main = document.getElementById("main");
let current = null;
let first = true;

/** Open the view the hash names; leave the previous one (stopping its polling). */
function route() {
  if (location.hash && !location.hash.startsWith("#/")) return; // an in-page link such as "skip to content"
  const [path, search = ""] = (location.hash.slice(2) || "stores").split("?");
  current?.leave?.();
  clearError();
  main.replaceChildren();
  const found = ROUTES.find(([pattern]) => pattern.test(path));
  if (found) {
    const [pattern, view] = found;
    const [, ...ids] = path.match(pattern);
    current = view(main, ...ids.map(decodeURIComponent), new URLSearchParams(search));
  } else {
    current = null;
    main.append(
      heading("Not found"),
      h("p", {}, "There is no such page. "),
      h("a", { href: "#/stores" }, "Vector stores"),
    );
  }
  const section = path.split("/")[0];
  for (const link of document.querySelectorAll("nav.sections a")) {
    if (link.getAttribute("href") === `#/${section}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const title = main.querySelector("h1");
  document.title = `${title?.textContent ?? "ragstore"} · ragstore`;
  if (!first) title?.focus();
  first = false;
}

function keyForm() {
  const form = document.getElementById("key-form");
  const input = document.getElementById("api-key");
  input.value = apiKey();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    setApiKey(input.value.trim());
    announce(input.value.trim() ? "API key saved for this browser session." : "API key cleared.");
    route();
  });
}

// Files dropped outside the drop zone must not make the browser leave the page to open them.
window.addEventListener("dragover", (event) => event.preventDefault());
window.addEventListener("drop", (event) => event.preventDefault());
window.addEventListener("hashchange", route);
keyForm();
route();
