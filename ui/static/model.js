// One model's lifecycle: serving and shadow versions, each version's predictions and
// accuracy on feedback (table and chart), the shadow comparison and the decisions.
import uPlot from "./vendor/uplot/uPlot.esm.js";
import {
  el, every, fmtCI, fmtClock, fmtCount, fmtPct, fmtTime, getJSON, isoToEpoch, labelName,
  modelPath, shortVersion, showError,
} from "./common.js";

const model = document.body.dataset.model;
const $ = (id) => document.getElementById(id);

const ROLE_COLORS = { serving: "#2457c5", shadow: "#f28e2b", other: "#8a94a6" };
const FONT = "system-ui, sans-serif";

function role(v) {
  if (v.serving) return "serving";
  if (v.shadow) return "shadow";
  if (v.predictions > 0) return "served before";
  return v.in_model_dir ? "not served yet" : "gone from the folder";
}

function when(iso) {
  return iso ? fmtTime(isoToEpoch(iso)) : "—";
}

function versionCode(version, className = "") {
  const code = el("code", `version ${className}`.trim(), shortVersion(version));
  if (version) code.title = version;
  return code;
}

function accuracyCell(accuracy, ci) {
  const td = el("td", "num nowrap");
  if (accuracy === null || accuracy === undefined) {
    td.append(el("span", "muted", "—"));
    return td;
  }
  td.append(el("span", "acc", fmtPct(accuracy)));
  if (ci) td.append(" ", el("span", "meta ci", fmtCI(ci)));
  return td;
}

// ---- Versions table ----

// A label as a person reads it: "German" for `language` (the code in the title), else
// the label itself.
function labelSpan(label) {
  const name = labelName(model, label);
  const span = el("span", "label", name || label);
  if (name) span.title = label;
  return span;
}

function confusionsCell(list) {
  const td = el("td", "confusions");
  if (!list.length) {
    td.append(el("span", "muted", "—"));
    return td;
  }
  list.slice(0, 3).forEach((c) => {
    const line = el("div", "confusion");
    line.append(labelSpan(c.predicted), " → ", labelSpan(c.label), " ",
                el("span", "meta", `×${c.count}`));
    td.append(line);
  });
  if (list.length > 3) td.append(el("div", "meta", `+${list.length - 3} more`));
  return td;
}

function versionRow(v) {
  const r = role(v);
  const tr = el("tr");
  tr.dataset.version = v.version;
  tr.dataset.role = r;
  const first = el("td", "nowrap");
  first.append(versionCode(v.version));
  if (v.learned_from) first.append(el("div", "meta", `learned from ${shortVersion(v.learned_from)}`));
  const roleCell = el("td", "nowrap");
  const tagClass = { serving: "tag-serving", shadow: "tag-shadow" }[r] || "tag-other";
  roleCell.append(el("span", `tag ${tagClass}`, r));
  tr.append(
    first, roleCell,
    el("td", "num", fmtCount(v.predictions)),
    el("td", "nowrap", when(v.served_from)),
    el("td", "nowrap", when(v.served_until)),
    el("td", "num feedback-count", fmtCount(v.feedback)),
    accuracyCell(v.accuracy, v.accuracy_ci95),
    confusionsCell(v.confusions || []),
  );
  return tr;
}

// ---- Shadow comparison ----

function verdict(s) {
  if (!s.with_feedback) return ["not known yet: no compared job has feedback", "muted"];
  const sh = s.shadow_accuracy_ci95;
  const se = s.served_accuracy_ci95;
  const diff = Math.round((s.shadow_accuracy - s.served_accuracy) * 1000) / 10;
  const n = `on ${fmtCount(s.with_feedback)} job${s.with_feedback === 1 ? "" : "s"}`;
  if (sh && se && sh[0] > se[1]) return [`yes: better by ${diff} points ${n}`, "ok"];
  if (sh && se && sh[1] < se[0]) return [`no: worse by ${-diff} points ${n}`, "warn"];
  if (diff === 0) return [`no difference ${n}`, "muted"];
  const way = diff > 0 ? `${diff} points better` : `${-diff} points worse`;
  return [`not clear yet: ${way} ${n}, the intervals overlap`, "muted"];
}

function shadowRow(s, current) {
  const tr = el("tr");
  tr.dataset.version = s.version;
  const first = el("td", "nowrap");
  first.append(versionCode(s.version, s.version === current ? "role-shadow" : ""));
  if (s.version === current) first.append(" ", el("span", "tag tag-shadow", "in shadow"));
  const [text, cls] = verdict(s);
  tr.append(
    first,
    el("td", "num", fmtCount(s.compared)),
    el("td", "num agreement", s.agreement === null ? "—" : fmtPct(s.agreement)),
    el("td", "num", fmtCount(s.with_feedback)),
    accuracyCell(s.shadow_accuracy, s.shadow_accuracy_ci95),
    accuracyCell(s.served_accuracy, s.served_accuracy_ci95),
    el("td", `verdict ${cls}`, text),
  );
  return tr;
}

// ---- History ----

function historyRow(h) {
  const tr = el("tr");
  tr.dataset.action = h.action;
  const version = el("td");
  version.append(h.version ? versionCode(h.version) : el("span", "muted", "—"));
  const previous = el("td");
  previous.append(h.previous ? versionCode(h.previous) : el("span", "muted", "—"));
  tr.append(el("td", "nowrap", when(h.at)), el("td", "action", h.action), version, previous,
            el("td", "message", h.reason || ""));
  return tr;
}

// ---- Chart: accuracy and its interval per version ----

class AccuracyChart {
  constructor(container, height = 240) {
    this.container = container;
    this.versions = [];
    const self = this;
    const opts = {
      width: Math.max(300, container.clientWidth),
      height,
      legend: { show: false },
      cursor: { show: false },
      padding: [14, 16, 0, 8],
      scales: {
        x: { time: false, range: () => [-0.5, Math.max(1, self.versions.length) - 0.5] },
        y: { range: [-7, 107] },  // room for a dot at 0% or 100%
      },
      axes: [
        {
          stroke: "#4a5563",
          grid: { show: false },
          ticks: { show: false },
          font: `12px ${FONT}`,
          size: 44,
          splits: () => self.versions.map((_, i) => i),
          values: (u, splits) => splits.map((i) => {
            const v = self.versions[i];
            return v ? `${shortVersion(v.version)}\n${role(v)}` : "";
          }),
        },
        {
          stroke: "#4a5563",
          grid: { stroke: "rgba(0, 0, 0, 0.07)", width: 1 },
          ticks: { stroke: "rgba(0, 0, 0, 0.07)", width: 1 },
          font: `12px ${FONT}`,
          size: 50,
          splits: () => [0, 25, 50, 75, 100],
          values: (u, splits) => splits.map((s) => `${s}%`),
        },
      ],
      series: [{}, { label: "accuracy", paths: () => null, points: { show: false } }],
      hooks: { draw: [(u) => self.drawIntervals(u)] },
    };
    this.plot = new uPlot(opts, [[], []], container);
    this.plot.root.dataset.role = "accuracy-chart";
    window.addEventListener("resize", () => this.plot.setSize({
      width: Math.max(300, this.container.clientWidth), height,
    }));
  }

  update(versions) {
    this.versions = versions;
    const xs = versions.map((_, i) => i);
    const ys = versions.map((v) => (v.accuracy === null ? null : v.accuracy * 100));
    this.plot.setData([xs, ys], true);
    this.container.dataset.points = String(ys.filter((y) => y !== null).length);
  }

  drawIntervals(u) {
    const ctx = u.ctx;
    const px = uPlot.pxRatio;
    const { top, height } = u.bbox;
    ctx.save();
    ctx.textAlign = "center";
    this.versions.forEach((v, i) => {
      const x = u.valToPos(i, "x", true);
      const r = role(v);
      const color = ROLE_COLORS[r] || ROLE_COLORS.other;
      if (v.accuracy === null || v.accuracy === undefined) {
        ctx.fillStyle = "#8a94a6";
        ctx.font = `${12 * px}px ${FONT}`;
        ctx.textBaseline = "middle";
        // A shadow's answers are not served, so they get no feedback of their own: its
        // accuracy is in the comparison, on the same jobs as the served version's.
        const note = r === "shadow" ? "in shadow: see the comparison below" : "no feedback yet";
        ctx.fillText(note, x, top + height / 2);
        return;
      }
      const y = u.valToPos(v.accuracy * 100, "y", true);
      const [lo, hi] = (v.accuracy_ci95 || [v.accuracy, v.accuracy])
        .map((a) => u.valToPos(a * 100, "y", true));
      const cap = 9 * px;
      ctx.strokeStyle = color;
      ctx.globalAlpha = 0.55;
      ctx.lineWidth = 6 * px;
      ctx.lineCap = "round";
      ctx.beginPath();
      ctx.moveTo(x, lo);
      ctx.lineTo(x, hi);
      ctx.stroke();
      ctx.globalAlpha = 1;
      ctx.lineWidth = 2 * px;
      ctx.lineCap = "butt";
      ctx.beginPath();
      ctx.moveTo(x - cap, lo);
      ctx.lineTo(x + cap, lo);
      ctx.moveTo(x - cap, hi);
      ctx.lineTo(x + cap, hi);
      ctx.stroke();
      ctx.fillStyle = color;
      ctx.strokeStyle = "#fff";
      ctx.beginPath();
      ctx.arc(x, y, 7 * px, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
      const label = `${fmtPct(v.accuracy)} · n=${v.feedback}`;
      ctx.font = `600 ${12 * px}px ${FONT}`;
      ctx.textAlign = "left";
      ctx.textBaseline = "middle";
      ctx.fillStyle = "#1d232b";
      ctx.fillText(label, x + 14 * px, y);
      ctx.textAlign = "center";
    });
    ctx.restore();
  }
}

const chart = new AccuracyChart($("chart"));

// ---- Refresh ----

function setVersion(id, version) {
  const node = $(id);
  node.textContent = shortVersion(version);
  node.title = version || "";
  node.dataset.version = version || "";
  node.classList.toggle("none", !version);
}

function fill(tableId, emptyId, rows) {
  $(tableId).tBodies[0].replaceChildren(...rows);
  $(tableId).hidden = rows.length === 0;
  $(emptyId).hidden = rows.length !== 0;
}

function show(d) {
  setVersion("stat-serving", d.serving);
  setVersion("stat-shadow", d.shadow);
  $("stat-versions").textContent = fmtCount(d.versions.length);
  $("stat-feedback").textContent = fmtCount(d.feedback);
  $("stat-generation").textContent = fmtCount(d.generation);
  const labels = d.labels.length ? `${d.labels.length} labels feedback may give`
    : "takes no feedback";
  $("summary").textContent = `${d.family} family · ${labels}`;
  fill("versions", "no-versions", d.versions.map(versionRow));
  fill("shadow", "no-shadow", d.shadow_comparison.map((s) => shadowRow(s, d.shadow)));
  fill("history", "no-history", d.history.map(historyRow));
  chart.update(d.versions);
  $("updated").textContent = `Updated ${fmtClock(Date.now() / 1000)}`;
}

every(3000, async () => show(await getJSON(modelPath(model))),
      (err) => showError($("error"), err));
