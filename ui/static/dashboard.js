// The monitoring dashboard: a sample every 2 s over the API's event stream. The history each chart draws
// is kept here, since the page opened (the server keeps none). Every string from the
// API is placed with textContent (via el()), never as HTML.
import uPlot from "./vendor/uplot/uPlot.esm.js";
import { axes } from "./charts.js";
import { el, fmtClock, fmtCount, fmtDuration, getJSON } from "./common.js";
import { followLive } from "./events.js";

const REFRESH_MS = 2000;
const KEEP = 900; // samples: 30 minutes at one every 2 s
const PALETTE = ["#2457c5", "#f28e2b", "#9467bd", "#17becf", "#8c564b", "#e377c2"];
const DEAD = "#d62728";
const STREAM_FAMILY = "stream";  // predictq.topology.STREAM_FAMILY

const $ = (id) => document.getElementById(id);
const errorBox = $("error");

// A live time chart: x is the sample time; each series a name and a colour.
class TimeChart {
  // `floor`: the least top of the y axis, so that a flat zero line has sane ticks.
  constructor(container, series, { height = 230, fmt = (v) => v, floor = 1 } = {}) {
    this.container = container;
    this.names = series.map((s) => s.label);
    this.data = [[], ...series.map(() => [])];
    const [x, y] = axes();
    const opts = {
      width: Math.max(260, container.clientWidth),
      height,
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        y: { range: (u, min, max) => [0, Math.max(max ?? 0, floor) * 1.15] },
      },
      axes: [x, { ...y, size: 64, values: (u, splits) => splits.map(fmt) }],
      series: [
        { label: "time", value: (u, t) => (t == null ? "—" : fmtClock(t)) },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.width ?? 2,
          dash: s.dash,
          points: { show: false },
          value: (u, v) => (v == null ? "—" : fmt(v)),
        })),
      ],
    };
    this.plot = new uPlot(opts, this.data, container);
    this.plot.root.dataset.role = "dash-chart";
    window.addEventListener("resize", () => this.plot.setSize({
      width: Math.max(260, this.container.clientWidth), height,
    }));
  }

  push(t, values) {
    this.data[0].push(t);
    values.forEach((v, i) => this.data[i + 1].push(v ?? null));
    if (this.data[0].length > KEEP) this.data.forEach((col) => col.shift());
    this.plot.setData(this.data, true);
    this.container.dataset.samples = String(this.data[0].length);
  }
}

const num = (v, digits = 2) => (v == null ? "—" : Number(v).toFixed(digits));
const secs = (v) => {
  if (v == null) return "—";
  if (v === 0) return "0";
  if (v < 0.01) return `${(v * 1000).toFixed(1)} ms`;
  if (v < 1) return `${Math.round(v * 1000)} ms`;
  return fmtDuration(v);
};

let charts = null;

function buildCharts(sample) {
  const queues = sample.queues.map((q, i) => ({
    label: q.queue || q.family, color: PALETTE[i % PALETTE.length],
  }));
  const depthSeries = [
    ...queues,
    { label: "streams (all partitions)", color: PALETTE[queues.length % PALETTE.length],
      width: 1.5 },
    { label: "dead letters", color: DEAD, width: 2, dash: [6, 4] },
  ];
  return {
    depth: new TimeChart($("chart-depth"), depthSeries, {
      fmt: (v) => fmtCount(Math.round(v)), floor: 4,
    }),
    rates: new TimeChart($("chart-rates"), [
      // completed under submitted, wider: where the two agree both stay visible
      { label: "completed/s", color: "#1b7a3a", width: 3.5 },
      { label: "submitted/s", color: "#2457c5", width: 1.5 },
    ], { fmt: (v) => num(v, v < 10 ? 1 : 0) }),
    latency: new TimeChart($("chart-latency"), [
      { label: "p50", color: "#2457c5" },
      { label: "p99", color: DEAD },
    ], { fmt: secs, floor: 0.05 }),
    oldest: new TimeChart($("chart-oldest"), queues, { fmt: secs }),
  };
}

function plot(sample) {
  charts ??= buildCharts(sample);
  const t = sample.at;
  const depths = sample.queues.map((q) => q.depth);
  charts.depth.push(t, [...depths, sample.streams?.depth, sample.dead_letter?.depth]);
  charts.rates.push(t, [sample.rates?.completed_per_s, sample.rates?.submitted_per_s]);
  charts.latency.push(t, [sample.latency?.p50_s, sample.latency?.p99_s]);
  charts.oldest.push(t, sample.queues.map((q) => q.oldest_age_seconds ?? 0));
}

function stats(sample) {
  const waiting = sample.queues.reduce((n, q) => n + (q.depth ?? 0), 0);
  $("stat-depth").textContent = sample.health.broker.ok ? fmtCount(waiting) : "broker down";
  const r = sample.rates;
  $("stat-rates").textContent = r ? `${num(r.submitted_per_s, 1)} / ${num(r.completed_per_s, 1)}` : "—";
  const l = sample.latency;
  $("stat-latency").textContent = l && l.jobs ? `${secs(l.p50_s)} · ${secs(l.p99_s)}` : "—";
  const ages = sample.queues.map((q) => q.oldest_age_seconds).filter((a) => a != null);
  $("stat-oldest").textContent = ages.length ? fmtDuration(Math.max(...ages)) : "nothing waits";
  const dead = sample.dead_letter?.depth;
  const deadBox = $("stat-dead");
  deadBox.textContent = fmtCount(dead);
  deadBox.className = dead > 0 ? "warn" : "";
  const w = sample.workers;
  const consumers = sample.queues.map((q) => q.consumers ?? 0);
  $("stat-workers").textContent = w.known ? workerCount(w.list)
    : `${Math.max(0, ...consumers)} per queue`;
}

// `predictq up --workers 2` runs each worker's job consumer and stream consumer as
// processes of their own: "2 jobs · 2 streams", not a bare 4.
function workerCount(list) {
  const streams = list.filter((x) => x.families.includes(STREAM_FAMILY)).length;
  const jobs = list.length - streams;
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return streams ? `${plural(jobs, "job")} · ${plural(streams, "stream")}` : String(jobs);
}

function alertRow(a) {
  const tr = el("tr", a.state);
  tr.dataset.rule = a.rule;
  tr.dataset.state = a.state;
  const state = el("td");
  state.append(el("span", `state state-${a.state}`, a.state));
  const when = a.state === "resolved"
    ? `${fmtClock(a.opened_at)} → ${fmtClock(a.resolved_at)}`
    : fmtClock(a.opened_at ?? a.since);
  tr.append(state, el("td", "nowrap", a.rule.replaceAll("_", " ")), el("td", "nowrap", a.subject),
            el("td", "nowrap", when), el("td", "message", a.message));
  return tr;
}

function alerts(sample) {
  const panel = $("alerts-panel");
  const a = sample.alerts;
  const table = $("alerts");
  const none = $("no-alerts");
  const h = sample.health;
  const health = [];
  for (const part of ["store", "broker"]) {
    health.push(`${part} ${h[part].ok ? "ok" : `DOWN (${h[part].error})`}`);
  }
  $("health").textContent = health.join(" · ");
  if (!a) {
    $("alerts-summary").textContent = "(the store is down: alerts are sent by the workers)";
    panel.classList.add("firing");
    return;
  }
  const firingIds = new Set(a.firing.map((x) => x.alert_id));
  const rows = [...a.firing, ...a.pending,
                ...a.recent.filter((x) => !firingIds.has(x.alert_id)).slice(0, 8)];
  table.tBodies[0].replaceChildren(...rows.map(alertRow));
  table.hidden = rows.length === 0;
  none.hidden = rows.length !== 0;
  panel.classList.toggle("firing", a.firing.length > 0);
  const rules = sample.rules;
  $("alerts-summary").textContent = `${a.firing.length} firing, ${a.pending.length} pending` +
    (rules.webhook ? " · sent to the webhook" : " · no webhook configured");
}

function queues(sample) {
  const rows = sample.queues.map((q) => {
    const tr = el("tr");
    tr.append(el("td", "nowrap", q.queue || q.family), el("td", "num", fmtCount(q.depth)),
              el("td", `num ${q.consumers === 0 ? "warn" : ""}`, fmtCount(q.consumers)),
              el("td", "num", q.oldest_age_seconds == null ? "—"
                : fmtDuration(q.oldest_age_seconds)));
    return tr;
  });
  if (sample.streams) {
    const tr = el("tr");
    tr.append(el("td", "nowrap", `streams (${sample.streams.partitions} partitions)`),
              el("td", "num", fmtCount(sample.streams.depth)),
              el("td", "num", fmtCount(sample.streams.consumers)), el("td", "num", "—"));
    rows.push(tr);
  }
  if (sample.dead_letter) {
    const tr = el("tr");
    tr.append(el("td", "nowrap", `${sample.dead_letter.queue} (dead letters)`),
              el("td", `num ${sample.dead_letter.depth > 0 ? "warn" : ""}`,
                 fmtCount(sample.dead_letter.depth)),
              el("td", "num", "—"), el("td", "num", "—"));
    rows.push(tr);
  }
  $("queues").tBodies[0].replaceChildren(...rows);

  const w = sample.workers;
  const note = $("workers-note");
  const table = $("workers");
  if (!w.known) {
    note.textContent = "On RabbitMQ workers do not report themselves: the consumers per " +
      "queue above are RabbitMQ's count.";
    note.hidden = false;
    table.hidden = true;
    return;
  }
  note.hidden = w.list.length !== 0;
  note.textContent = "No worker is running.";
  table.hidden = w.list.length === 0;
  table.tBodies[0].replaceChildren(...w.list.map((worker) => {
    const tr = el("tr");
    tr.dataset.worker = worker.worker;
    const cannot = Object.keys(worker.unavailable);
    tr.append(el("td", "nowrap", worker.worker), el("td", "", worker.families.join(", ")),
              el("td", cannot.length ? "warn" : "muted", cannot.join(", ") || "—"));
    return tr;
  }));
}

function show(sample) {
  plot(sample);
  stats(sample);
  alerts(sample);
  queues(sample);
  $("updated").textContent = `Updated ${fmtClock(sample.at)}`;
}

// Samples arrive over the API's event stream (one per REFRESH_MS, taken once per API
// process however many pages watch), each stream for up to 30 s, then the next one.
// Where a stream cannot be read, the page polls GET /v1/monitor instead.
followLive("/v1/monitor/events", "sample", show,
           { poll: () => getJSON("/v1/monitor"), pollMs: REFRESH_MS, errorBox });
