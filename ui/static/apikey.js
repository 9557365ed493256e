// The API key the pages send when the deployment asks for keys (PREDICTQ_API_KEYS=on):
// kept in this browser's localStorage, sent as `Authorization: Bearer …` on every /v1
// request, never placed in a URL or in the page. With keys off (the page's
// <meta name="predictq-api-keys" content="off">) and no key stored, nothing shows.

const STORAGE = "predictq.apiKey";

export function apiKey() {
  try {
    return localStorage.getItem(STORAGE) || "";
  } catch {
    return "";  // storage disabled: no key
  }
}

// `headers` plus Authorization when a key is stored.
export function authHeaders(headers = {}) {
  const key = apiKey();
  return key ? { ...headers, Authorization: `Bearer ${key}` } : headers;
}

function keysRequired() {
  const meta = document.querySelector('meta[name="predictq-api-keys"]');
  return Boolean(meta && meta.content === "on");
}

function save(value) {
  try {
    if (value) localStorage.setItem(STORAGE, value);
    else localStorage.removeItem(STORAGE);
  } catch {
    // storage disabled: the key lasts as long as nothing (reload asks again)
  }
}

// A small form at the end of the page's nav: the key (hidden as a password), Save and
// Forget. Saving reloads the page, so every module's requests carry the new key.
function installKeyField() {
  const nav = document.querySelector("nav.topnav");
  if (!nav || (!keysRequired() && !apiKey()) || nav.querySelector("#api-key-form")) return;
  const form = document.createElement("form");
  form.id = "api-key-form";
  form.className = "apikey";
  const label = document.createElement("label");
  label.htmlFor = "api-key";
  label.textContent = "API key";
  const input = document.createElement("input");
  input.id = "api-key";
  input.type = "password";
  input.autocomplete = "off";
  input.spellcheck = false;
  input.placeholder = "pqk_…";
  input.value = apiKey();
  const saveButton = document.createElement("button");
  saveButton.type = "submit";
  saveButton.textContent = "Save";
  const forget = document.createElement("button");
  forget.type = "button";
  forget.className = "secondary";
  forget.textContent = "Forget";
  forget.hidden = !apiKey();
  const state = document.createElement("span");
  state.className = "apikey-state";
  state.textContent = apiKey() ? "key set" : "no key";
  form.append(label, input, saveButton, forget, state);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save(input.value.trim());
    location.reload();
  });
  forget.addEventListener("click", () => {
    save("");
    location.reload();
  });
  nav.append(form);
}

installKeyField();
