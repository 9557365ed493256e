// The alert table rows, shared by the sensors page (all sensors) and a sensor's page.
import { el, fmtClock, fmtTime, isoToEpoch } from "./common.js";

function delivery(alert) {
  if (alert.delivered) return { text: "delivered", cls: "ok" };
  if (alert.delivery_attempts > 0) {
    const n = alert.delivery_attempts;
    return { text: `retrying (${n} attempt${n === 1 ? "" : "s"})`, cls: "warn" };
  }
  return { text: "not sent", cls: "muted" };
}

export function alertRow(alert, { withSensor }) {
  const tr = el("tr");
  tr.dataset.alertId = alert.alert_id;
  // The API orders alerts by when they were raised (wall clock), not by reading time
  // (the sensor's clock): both are shown.
  const when = el("td", "nowrap", fmtTime(alert.t));
  when.title = `reading time ${alert.time}`;
  const raised = el("td", "nowrap meta", fmtClock(isoToEpoch(alert.created_at)));
  raised.title = `raised ${alert.created_at}`;
  tr.append(when, raised);
  if (withSensor) {
    const td = el("td");
    const a = el("a", "sensor-link clip", alert.sensor_id);
    a.title = alert.sensor_id;
    a.href = `/sensors/${encodeURIComponent(alert.sensor_id)}`;
    td.append(a);
    tr.append(td);
  }
  const kind = el("td");
  kind.append(el("span", `tag tag-${alert.kind === "anomaly" ? "anomaly" : "event"}`,
                 alert.kind));
  tr.append(kind);
  tr.append(el("td", "message", alert.message));
  const d = delivery(alert);
  tr.append(el("td", `nowrap ${d.cls}`, d.text));
  return tr;
}

export function renderAlerts(table, empty, alerts, opts) {
  const body = table.tBodies[0];
  body.replaceChildren(...alerts.map((a) => alertRow(a, opts)));
  table.hidden = alerts.length === 0;
  empty.hidden = alerts.length !== 0;
}
