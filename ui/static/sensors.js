// The sensor list and the newest alerts, as they change: over the API's event stream
// (GET /v1/monitor/sensors), or, where no stream can be read, polled every 2 s.
import { renderAlerts } from "./alerts.js";
import { el, fmtClock, fmtCount, fmtDuration, fmtTime, getJSON } from "./common.js";
import { followLive } from "./events.js";

const table = document.getElementById("sensors");
const noSensors = document.getElementById("no-sensors");
const alertsTable = document.getElementById("alerts");
const noAlerts = document.getElementById("no-alerts");
const errorBox = document.getElementById("error");
const updated = document.getElementById("updated");

function num(value) {
  return el("td", "num", fmtCount(value));
}

function sensorRow(s) {
  const tr = el("tr");
  tr.dataset.sensorId = s.sensor_id;
  const name = el("td");
  const link = el("a", "sensor-link", s.sensor_id);
  link.href = `/sensors/${encodeURIComponent(s.sensor_id)}`;
  name.append(link);
  tr.append(name);
  const last = el("td", "nowrap last-reading", fmtTime(s.last_reading_t));
  if (s.last_reading) last.title = s.last_reading;
  tr.append(last, num(s.readings), num(s.events), num(s.anomalies), num(s.alerts));
  const lag = el("td", "num lag");
  lag.append(el("span", s.pending_batches > 0 ? "warn" : "ok",
                `${fmtCount(s.pending_batches)} batch${s.pending_batches === 1 ? "" : "es"}`));
  if (s.last_reading_t !== null && s.readings_applied_until_t !== null) {
    const behind = s.last_reading_t - s.readings_applied_until_t;
    if (behind > 0) lag.append(el("div", "meta", `${fmtDuration(behind)} behind`));
  } else if (s.readings_applied_until_t === null && s.readings > 0) {
    lag.append(el("div", "meta", "nothing applied yet"));
  }
  tr.append(lag);
  const v = s.versions || {};
  const detectors = [v.event_detector, v.anomaly_detector].filter(Boolean).join(" · ");
  tr.append(el("td", "meta", detectors || "—"));
  return tr;
}

function show({ sensors, alerts }) {
  table.tBodies[0].replaceChildren(...sensors.map(sensorRow));
  table.hidden = sensors.length === 0;
  noSensors.hidden = sensors.length !== 0;
  renderAlerts(alertsTable, noAlerts, alerts, { withSensor: true });
  const live = document.body.dataset.via === "stream";
  updated.textContent = `${live ? "Live · last change" : "Updated"} ${fmtClock(Date.now() / 1000)}`;
}

async function poll() {
  const [list, recent] = await Promise.all([
    getJSON("/v1/sensors"),
    getJSON("/v1/alerts", { limit: 50 }),
  ]);
  return { sensors: list.sensors, alerts: recent.alerts };
}

followLive("/v1/monitor/sensors", "sensors", show, { poll, pollMs: 2000, errorBox });
