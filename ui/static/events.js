// Results as they are written, from the API's server-sent-event stream
// (GET /v1/predictions/events?ids=…): no polling. Read with fetch rather than
// EventSource, which cannot send the API key header.
import { authHeaders } from "./apikey.js";

// Calls onPrediction(job) for each job as it becomes final; resolves with the ids still
// pending when the server's wait ran out (the caller may follow them again).
export async function followPredictions(ids, onPrediction, { wait = 30, signal } = {}) {
  const query = new URLSearchParams({ ids: ids.join(","), wait: String(wait) });
  const response = await fetch(`/v1/predictions/events?${query}`, {
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
  let pending = ids;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return pending;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const event = parse(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
      if (event.name === "prediction") onPrediction(event.data);
      if (event.name === "end") pending = event.data.pending;
    }
  }
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
