// One sensor, live: its totals, a chart of the last minutes (only new readings are
// fetched, plus those the worker had not applied yet), its events and its alerts. The
// sensor arrives over the API's event stream each time it changes
// (GET /v1/sensors/{id}/live); the page then fetches what the change calls for.
import { renderAlerts } from "./alerts.js";
import { eventChart, LiveChart } from "./charts.js";
import {
  ApiError, describeClassification, el, fmtClock, fmtCount, fmtDuration, fmtTime,
  getJSON, sensorPath, showError,
} from "./common.js";
import { followLive } from "./events.js";

const CONTEXT_S = 10;  // the context the worker keeps around each event
const READINGS_LIMIT = 10000;
const EVENTS_LIMIT = 30;

const sensorId = document.body.dataset.sensor;
const base = sensorPath(sensorId);
const $ = (id) => document.getElementById(id);
const errorBox = $("error");
const windowSelect = $("window");

const chart = new LiveChart($("chart"), { windowS: Number(windowSelect.value) });
let rows = [];  // readings in the window, time order
let loadedFrom = null;  // the oldest time the window was loaded from
let events = [];  // newest first, as the API gives them
let eventsKey = null;  // what the shown events were built from
let knownEvents = -1;
let lastView = null;  // the latest {sensor, alerts} shown
let nextView = null;  // one that arrived while the page was still fetching for another
let busy = false;

windowSelect.addEventListener("change", () => {
  chart.setWindow(Number(windowSelect.value));
  loadedFrom = null;  // a wider window needs older readings
  if (lastView) show(lastView);
});

function setText(id, text, title) {
  const node = $(id);
  node.textContent = text;
  if (title) node.title = title;
}

function showInfo(info) {
  setText("stat-last", fmtClock(info.last_reading_t), info.last_reading || "");
  setText("stat-last-date", info.last_reading_t === null ? "" : fmtTime(info.last_reading_t).slice(0, 10));
  $("stat-last").dataset.t = info.last_reading_t ?? "";
  setText("stat-readings", fmtCount(info.readings));
  setText("stat-events", fmtCount(info.events));
  setText("stat-anomalies", fmtCount(info.anomalies));
  setText("stat-alerts", fmtCount(info.alerts));
  let lag = `${fmtCount(info.pending_batches)} batch${info.pending_batches === 1 ? "" : "es"}`;
  if (info.last_reading_t !== null && info.readings_applied_until_t !== null) {
    const behind = info.last_reading_t - info.readings_applied_until_t;
    if (behind > 0) lag += ` · ${fmtDuration(behind)} behind`;
  }
  setText("stat-lag", lag);
  $("stat-lag").className = info.pending_batches > 0 ? "warn" : "";
  const v = info.versions || {};
  const parts = [];
  if (v.event_detector) parts.push(`event detector ${v.event_detector}`);
  if (v.anomaly_detector) parts.push(`anomaly detector ${v.anomaly_detector}`);
  parts.push(`first reading accepted ${info.created_at}`);
  setText("versions", parts.join(" · "));
}

async function refreshReadings(info) {
  const last = info.last_reading_t;
  if (last === null || last === undefined) return;
  const windowS = Number(windowSelect.value);
  const lo = last - windowS;
  let since;
  if (loadedFrom === null || loadedFrom > lo || rows.length === 0) {
    since = lo;
    rows = [];
  } else {
    const pending = rows.find((r) => r.smoothed === null);
    const newest = rows[rows.length - 1].t;
    if (!pending && newest >= last) return;  // nothing new, nothing to complete
    since = pending ? pending.t : newest;
  }
  const body = await getJSON(`${base}/readings`, { since, until: last, limit: READINGS_LIMIT });
  if (loadedFrom === null || since === lo) loadedFrom = lo;
  const kept = rows.filter((r) => r.t < since);
  rows = kept.concat(body.readings);
  const start = rows.findIndex((r) => r.t >= lo);
  rows = start < 0 ? [] : rows.slice(start);
}

function bandLabel(event) {
  const c = describeClassification(event.classification);
  return c.state === "none" ? "event" : c.short;
}

function drawChart(info) {
  const bands = events.map((e) => ({ start: e.start_t, end: e.end_t, label: bandLabel(e) }));
  chart.update(rows, bands, info.last_reading_t);
  const unapplied = rows.filter((r) => r.smoothed === null).length;
  const note = [`${fmtCount(rows.length)} readings shown`];
  if (rows.length) note.push(`last at ${fmtClock(rows[rows.length - 1].t)}`);
  if (unapplied) note.push(`${fmtCount(unapplied)} not yet applied by the worker`);
  $("chart-note").textContent = note.join(" · ");
  $("chart").dataset.lastT = rows.length ? rows[rows.length - 1].t : "";
}

function eventIncomplete(e, info) {
  const c = e.classification;
  if (c && (c.status === "queued" || c.status === "processing")) return true;
  const applied = info.readings_applied_until_t;
  return (e.context_after || []).length === 0 && (applied === null || applied < e.end_t + CONTEXT_S);
}

async function refreshEvents(info) {
  const stale = info.events !== knownEvents || events.some((e) => eventIncomplete(e, info));
  if (!stale) return;
  const body = await getJSON(`${base}/events`, { limit: EVENTS_LIMIT });
  events = body.events;
  knownEvents = info.events;
}

function eventCard(e) {
  const li = el("li", "event-card");
  li.dataset.eventId = e.event_id;
  const c = describeClassification(e.classification);
  li.dataset.classification = c.state;
  const head = el("div", "event-head");
  const times = el("span", "event-times",
                   `${fmtClock(e.start_t)} → ${fmtClock(e.end_t)}`);
  times.title = `${e.start} → ${e.end}`;
  head.append(times);
  const badgeText = { done: `class ${c.short}`, pending: `… ${e.classification?.status}`,
                      failed: "classification failed", none: "not classified" }[c.state];
  const badge = el("span", `badge badge-${c.state}`, badgeText);
  badge.title = c.long;
  head.append(badge);
  li.append(head);
  const box = el("div", "event-chart");
  li.append(box);
  const after = (e.context_after || []).length;
  const meta = [fmtDuration(e.end_t - e.start_t), `${fmtCount(e.readings.length)} readings`,
                fmtTime(e.start_t).slice(0, 10),
                `detector ${e.detector_version}`];
  if (!after) meta.push("context after: not yet");
  const foot = el("p", "meta event-meta", meta.join(" · "));
  foot.title = `event ${e.event_id}${e.tracking_id ? `, job ${e.tracking_id}` : ""}`;
  li.append(foot);
  return { li, box };
}

function showEvents() {
  const key = JSON.stringify(events.map((e) => [e.event_id, e.classification,
                                                (e.context_after || []).length]));
  if (key === eventsKey) return;
  eventsKey = key;
  const list = $("events");
  const cards = events.map(eventCard);
  list.replaceChildren(...cards.map((c) => c.li));
  cards.forEach((c, i) => eventChart(c.box, events[i]));
  $("no-events").hidden = events.length !== 0;
}

async function update({ sensor: info, alerts }) {
  if (info === null) {
    throw new Error(`sensor ${sensorId} has no readings any more (retention deleted them)`);
  }
  showInfo(info);
  await Promise.all([refreshReadings(info), refreshEvents(info)]);
  renderAlerts($("alerts"), $("no-alerts"), alerts, { withSensor: false });
  drawChart(info);
  showEvents();
  const live = document.body.dataset.via === "stream";
  $("updated").textContent = `${live ? "Live · last change" : "Updated"} ${fmtClock(Date.now() / 1000)}`;
}

// Views are shown one at a time, the newest next: one that arrives while the page
// fetches for the previous waits, and replaces any that waited before it.
function show(view) {
  nextView = view;
  if (busy) return;
  busy = true;
  (async () => {
    while (nextView) {
      const current = nextView;
      nextView = null;
      lastView = current;
      try {
        await update(current);
      } catch (err) {
        showError(errorBox, err);
      }
    }
    busy = false;
  })();
}

async function poll() {
  const [sensor, recent] = await Promise.all([
    getJSON(base),
    getJSON("/v1/alerts", { sensor_id: sensorId, limit: 50 }),
  ]);
  return { sensor, alerts: recent.alerts };
}

// A sensor with no readings yet answers 404: say so, and keep trying the stream.
function onError(err) {
  if (err instanceof ApiError && err.status === 404) {
    showError(errorBox, new Error(`${err.message}; this page fills in when it does.`));
    return true;
  }
  showError(errorBox, err);
  return false;
}

followLive(`${base}/live`, "sensor", show, { poll, pollMs: 1500, onError });
