// Helpers shared by the sensor pages. Every string that comes from the API is placed
// with textContent (via el()), never as HTML.

import { authHeaders } from "./apikey.js";

export { authHeaders };

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// GET a /v1/... path; resolves to the JSON body, rejects with ApiError.
export async function getJSON(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) query.set(key, String(value));
  }
  const qs = query.toString();
  const response = await fetch(qs ? `${path}?${qs}` : path, {
    headers: authHeaders({ Accept: "application/json" }),
    cache: "no-store",
  });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message = body && body.error ? body.error.message : `HTTP ${response.status}`;
    throw new ApiError(response.status, message);
  }
  return body;
}

export function sensorPath(id) {
  return `/v1/sensors/${encodeURIComponent(id)}`;
}

const pad = (n) => String(n).padStart(2, "0");

// Epoch seconds -> "2024-05-01 12:00:03" in the browser's time zone (as the charts).
export function fmtTime(t) {
  if (t === null || t === undefined) return "—";
  const d = new Date(t * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtClock(t) {
  if (t === null || t === undefined) return "—";
  const d = new Date(t * 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "—";
  const s = Math.max(0, seconds);
  if (s < 120) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.floor(s % 60)} s`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${Math.round(s / 86400)} d`;
}

export function fmtCount(n) {
  return n === null || n === undefined ? "—" : Number(n).toLocaleString("en");
}

// ISO string from the API -> epoch seconds (null if absent).
export function isoToEpoch(iso) {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms / 1000;
}

// What an event's classification says, short ("3 · 97%", "…") and long.
export function describeClassification(c) {
  if (!c) return { short: "", long: "not classified", state: "none" };
  if (c.status === "done" && c.result) {
    const r = c.result;
    if (r.label !== undefined && r.confidence !== undefined) {
      const pct = `${Math.round(r.confidence * 100)}%`;
      const version = c.model_version ? ` ${c.model_version}` : "";
      return {
        short: `${r.label} · ${pct}`,
        long: `class ${r.label} · confidence ${pct} (${c.model || "model"}${version})`,
        state: "done",
      };
    }
    return { short: "?", long: JSON.stringify(r), state: "done" };
  }
  if (c.status === "failed") {
    return { short: "failed", long: "classification failed", state: "failed" };
  }
  return { short: "…", long: `classification ${c.status}…`, state: "pending" };
}

// Calls `tick` now and then every `ms` after the previous call settled; errors go to
// `onError` (and the loop carries on). Returns a function that stops it.
export function every(ms, tick, onError) {
  let stopped = false;
  let timer = null;
  const run = async () => {
    try {
      await tick();
      if (onError) onError(null);
    } catch (err) {
      if (onError) onError(err);
      else console.error(err);
    }
    if (!stopped) timer = setTimeout(run, ms);
  };
  run();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

export function showError(box, err) {
  if (!box) return;
  const message = err ? (err.message || String(err)) : "";
  box.textContent = message;
  box.hidden = !message;
}

// ---- Model lifecycle pages and the feedback control ----

export function modelPath(name) {
  return `/v1/models/${encodeURIComponent(name)}`;
}

// POST a JSON body to a /v1/... path; resolves to the JSON body, rejects with ApiError.
export async function postJSON(path, payload) {
  const response = await fetch(path, {
    method: "POST",
    headers: authHeaders({ "Content-Type": "application/json", Accept: "application/json" }),
    body: JSON.stringify(payload),
  });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message = body && body.error ? body.error.message : `HTTP ${response.status}`;
    const error = new ApiError(response.status, message);
    error.code = body && body.error ? body.error.code : null;
    throw error;
  }
  return body;
}

let languageNames = null;

// The English name of a `language` label ("sv" -> "Swedish"), from the browser's own
// locale data (no request, no internet); null for other models or an unknown code.
export function labelName(model, label) {
  if (model !== "language" || !label) return null;
  try {
    languageNames ??= new Intl.DisplayNames(["en"], { type: "language" });
    const name = languageNames.of(label);
    return name && name !== label ? name : null;
  } catch {
    return null;
  }
}

// "sv — Swedish" where a name is known, else the label itself.
export function labelText(model, label) {
  const name = labelName(model, label);
  return name ? `${label} — ${name}` : String(label);
}

// 0..1 -> "50%" (one decimal below 10 points from 0 or 100, where it matters).
export function fmtPct(x) {
  if (x === null || x === undefined) return "—";
  const p = x * 100;
  return `${p > 0 && p < 100 && (p < 10 || p > 90) ? p.toFixed(1) : Math.round(p)}%`;
}

// [lo, hi] (0..1) -> "9–91%", or "" when there is none.
export function fmtCI(ci) {
  if (!ci) return "";
  return `${fmtPct(ci[0]).replace("%", "")}–${fmtPct(ci[1])}`;
}

// A version hash, short enough for a table cell (the full one goes in a title).
export function shortVersion(version) {
  return version ? String(version).slice(0, 12) : "—";
}
