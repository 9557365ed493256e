// Submits to the REST API and polls until the prediction is final. User text is only
// ever placed with textContent, never as HTML.
"use strict";

const form = document.getElementById("submit-form");
const results = document.getElementById("results");
const errorBox = document.getElementById("error");
const button = document.getElementById("submit");

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

function describe(job) {
  if (job.status === "done" && job.result) {
    const r = job.result;
    if (r.label !== undefined && r.confidence !== undefined) {
      const name = r.name ? `${r.name} (${r.label})` : r.label;
      return `${name} · confidence ${(r.confidence * 100).toFixed(1)}%`;
    }
    return JSON.stringify(r);
  }
  if (job.status === "failed") return job.error || "failed";
  return job.status;
}

async function poll(trackingId, item, started) {
  const status = item.querySelector(".status");
  const meta = item.querySelector(".meta");
  for (let delay = 25; ; delay = Math.min(delay * 1.5, 500)) {
    const response = await fetch(`/v1/predictions/${encodeURIComponent(trackingId)}`);
    const job = await response.json();
    if (!response.ok) {
      status.textContent = job.error ? job.error.message : `HTTP ${response.status}`;
      status.className = "status status-failed";
      return;
    }
    status.textContent = describe(job);
    status.className = `status status-${job.status}`;
    item.dataset.status = job.status;
    if (job.status === "done" || job.status === "failed") {
      const ms = Math.round(performance.now() - started);
      meta.textContent = `${job.model} ${job.model_version || ""} · ${ms} ms · ${trackingId}`;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("");
  const text = form.elements.text.value;
  const model = form.elements.model.value;
  button.disabled = true;
  const started = performance.now();
  try {
    const response = await fetch("/v1/predictions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ model, input: { text } }),
    });
    const body = await response.json();
    if (response.status !== 202) {
      showError(body.error ? body.error.message : `HTTP ${response.status}`);
      return;
    }
    const item = el("li");
    item.dataset.trackingId = body.tracking_id;
    item.append(el("div", "text", text), el("div", "status", "queued"), el("div", "meta"));
    results.prepend(item);
    poll(body.tracking_id, item, started).catch((err) => showError(String(err)));
  } catch (err) {
    showError(String(err));
  } finally {
    button.disabled = false;
  }
});
