// Server-sent-event streams of the API, read with fetch rather than EventSource (which
// cannot send the API key header): results as they are written
// (GET /v1/predictions/events), dashboard samples as they are taken
// (GET /v1/monitor/events), the sensor views as they change (GET /v1/monitor/sensors,
// GET /v1/sensors/{id}/live). No polling while a stream can be read.
import { authHeaders } from "./apikey.js";
import { ApiError, every, showError } from "./common.js";

const RETRY_MS = 2000;

// Calls onEvent(name, data) for each event until the server ends the stream.
export async function readEvents(url, onEvent, { signal } = {}) {
  const response = await fetch(url, {
    headers: authHeaders({ Accept: "text/event-stream" }),
    cache: "no-store",
    signal,
  });
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try {
      const body = await response.json();
      if (body.error) message = body.error.message;
    } catch (_) { /* not JSON: keep the status */ }
    throw new ApiError(response.status, message);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const event = parse(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
      if (event.data !== null) onEvent(event.name, event.data);
    }
  }
}

// Calls onPrediction(job) for each job as it becomes final; resolves with the ids still
// pending when the server's wait ran out (the caller may follow them again).
export async function followPredictions(ids, onPrediction, { wait = 30, signal } = {}) {
  const query = new URLSearchParams({ ids: ids.join(","), wait: String(wait) });
  let pending = ids;
  await readEvents(`/v1/predictions/events?${query}`, (name, data) => {
    if (name === "prediction") onPrediction(data);
    if (name === "end") pending = data.pending;
  }, { signal });
  return pending;
}

// Follows a live view: `show(data)` for each `eventName` event; each stream lasts up to
// the server's wait, then the next one opens. A stream that worked once and broke (the
// API restarting) is opened again; where none can be read at all (a buffering proxy),
// `poll()` is shown every `pollMs` instead. `onError(err)` hears what went wrong (or
// null when all is well) and may return true to keep trying the stream rather than
// polling (a sensor with no readings yet). <body data-via> says which way it went.
export async function followLive(url, eventName, show, { poll, pollMs, errorBox, onError }) {
  const report = (err) => (onError ? onError(err) : showError(errorBox, err));
  let worked = false;
  for (;;) {
    let got = 0;
    try {
      await readEvents(url, (name, data) => {
        if (name !== eventName) return;
        got += 1;
        worked = true;
        document.body.dataset.via = "stream";
        report(null);
        show(data);
      });
      if (!got) throw new Error(`the ${eventName} stream ended before its first event`);
    } catch (err) {
      const keepTrying = report(err) || worked;  // shown either way
      if (!keepTrying) break;
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
  every(pollMs, async () => {
    document.body.dataset.via = "poll";
    show(await poll());
  }, report);
}

function parse(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
  }
  return { name, data: data.length ? JSON.parse(data.join("\n")) : null };
}
