// Submits to the REST API and hears the result from its event stream (polling only
// where a stream cannot be read); under a done result of a model that takes feedback,
// asks "was this right?". User text and API strings are only ever placed with
// textContent (el()), never as HTML.
import {
  authHeaders, el, getJSON, labelName, labelText, modelPath, postJSON,
} from "./common.js";
import { followPredictions } from "./events.js";

const form = document.getElementById("submit-form");
const results = document.getElementById("results");
const errorBox = document.getElementById("error");
const button = document.getElementById("submit");

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

// ---- "Was this right?" ----

const modelInfo = new Map();  // model name -> Promise of GET /v1/models/<name>

function labelsOf(model) {
  if (!modelInfo.has(model)) {
    const pending = getJSON(modelPath(model)).then((m) => m.labels || []);
    pending.catch(() => modelInfo.delete(model));  // a failed look-up is retried next time
    modelInfo.set(model, pending);
  }
  return modelInfo.get(model);
}

function recordedText(model, stored) {
  const name = labelName(model, stored.label);
  const label = name ? `${stored.label} (${name})` : stored.label;
  const verdict = stored.correct ? "the model was right"
    : `the model said ${stored.predicted ?? "?"}`;
  return `thanks — recorded as ${label}; ${verdict}`;
}

// The control under one done result: ✓ right sends the predicted label; ✗ wrong opens a
// choice of the model's labels and a send button. Shows what the API stored, or why not.
function feedbackControl(job, labels) {
  const predicted = job.result.label;
  const box = el("div", "feedback");
  const ask = el("div", "fb-ask");
  const right = el("button", "fb-btn fb-right", "✓ right");
  const wrong = el("button", "fb-btn fb-wrong", "✗ wrong");
  right.type = wrong.type = "button";
  ask.append(el("span", "fb-question", "Was this right?"), right, wrong);

  const pick = el("div", "fb-pick");
  pick.hidden = true;
  const select = el("select", "fb-label");
  select.setAttribute("aria-label", "the right label");
  select.append(new Option("choose the right answer…", ""));
  for (const label of labels) {
    if (label !== predicted) select.append(new Option(labelText(job.model, label), label));
  }
  const send = el("button", "fb-btn fb-send", "Send");
  send.type = "button";
  send.disabled = true;
  pick.append(select, send);

  const done = el("div", "fb-done");
  done.hidden = true;
  const state = el("span", "fb-state");
  state.setAttribute("role", "status");
  const problem = el("div", "fb-error error");
  problem.setAttribute("role", "alert");
  problem.hidden = true;
  const change = el("button", "fb-link fb-change", "change");
  change.type = "button";
  change.hidden = true;
  done.append(state, change);
  box.append(ask, pick, done, problem);

  const buttons = [right, wrong, send, change];

  async function give(label) {
    problem.hidden = true;
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const stored = await postJSON(`/v1/predictions/${encodeURIComponent(job.tracking_id)}/feedback`,
                                    { label });
      state.textContent = recordedText(job.model, stored);
      state.className = `fb-state ${stored.correct ? "ok" : "fb-wrong-state"}`;
      box.dataset.feedback = stored.label;
      ask.hidden = pick.hidden = true;
      wrong.setAttribute("aria-expanded", "false");
      done.hidden = change.hidden = false;
    } catch (err) {
      problem.textContent = `feedback not recorded: ${err.message || err}`;
      problem.hidden = false;
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
      send.disabled = !select.value;
    }
  }

  right.addEventListener("click", () => give(predicted));
  wrong.addEventListener("click", () => {
    pick.hidden = !pick.hidden;
    wrong.setAttribute("aria-expanded", String(!pick.hidden));
    if (!pick.hidden) select.focus();
  });
  select.addEventListener("change", () => { send.disabled = !select.value; });
  send.addEventListener("click", () => { if (select.value) give(select.value); });
  change.addEventListener("click", () => {
    done.hidden = true;
    ask.hidden = false;
  });
  return box;
}

async function offerFeedback(job, item) {
  if (job.status !== "done" || !job.result || typeof job.result.label !== "string") return;
  let labels;
  try {
    labels = await labelsOf(job.model);
  } catch (err) {
    const note = el("div", "fb-error error",
                    `cannot ask for feedback: ${err.message || err}`);
    item.append(note);
    return;
  }
  if (!labels.length) return;  // this model takes no feedback (anomaly)
  item.append(feedbackControl(job, labels));
}

function show(job, item, started) {
  const status = item.querySelector(".status");
  status.textContent = describe(job);
  status.className = `status status-${job.status}`;
  item.dataset.status = job.status;
  if (job.status === "done" || job.status === "failed") {
    const ms = Math.round(performance.now() - started);
    item.querySelector(".meta").textContent =
      `${job.model} ${job.model_version || ""} · ${ms} ms · ${job.tracking_id}`;
    return true;
  }
  return false;
}

// Hears the result the moment it is written, from the API's event stream; a stream
// that ends before the job is final (the server's wait ran out) is followed again.
async function follow(trackingId, item, started) {
  let final = null;
  for (let round = 0; final === null; round += 1) {
    const pending = await followPredictions([trackingId], (job) => { final = job; });
    if (final === null && (!pending.length || round > 20)) {
      throw new Error("the result did not arrive");
    }
  }
  item.dataset.via = "stream";
  show(final, item, started);
  await offerFeedback(final, item);
}

// The fallback where a stream cannot be read: polls, backing off to 500 ms.
async function poll(trackingId, item, started) {
  for (let delay = 25; ; delay = Math.min(delay * 1.5, 500)) {
    const response = await fetch(`/v1/predictions/${encodeURIComponent(trackingId)}`,
                                 { headers: authHeaders() });
    const job = await response.json();
    if (!response.ok) {
      const status = item.querySelector(".status");
      status.textContent = job.error ? job.error.message : `HTTP ${response.status}`;
      status.className = "status status-failed";
      return;
    }
    if (show(job, item, started)) {
      item.dataset.via = "poll";
      await offerFeedback(job, item);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

async function watch(trackingId, item, started) {
  try {
    await follow(trackingId, item, started);
  } catch (err) {
    await poll(trackingId, item, started);
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
      headers: authHeaders({ "Content-Type": "application/json" }),
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
    watch(body.tracking_id, item, started).catch((err) => showError(String(err)));
  } catch (err) {
    showError(String(err));
  } finally {
    button.disabled = false;
  }
});
