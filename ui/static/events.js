// Server-sent-event streams of the API, read with fetch rather than EventSource (which
// cannot send the API key header): results as they are written
// (GET /v1/predictions/events) and dashboard samples as they are taken
// (GET /v1/monitor/events). No polling.
import { authHeaders } from "./apikey.js";

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
    throw new Error(message);
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

function parse(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
  }
  return { name, data: data.length ? JSON.parse(data.join("\n")) : null };
}
