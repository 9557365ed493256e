// uPlot charts for the sensor pages: the live chart (raw value, smoothed, anomalous
// readings as red points, events as labelled bands) and the small per-event charts.
// Labels are drawn on the canvas with fillText: text, never HTML.
import uPlot from "./vendor/uplot/uPlot.esm.js";

export const COLORS = {
  value: "#2457c5",
  smoothed: "#f28e2b",
  anomalous: "#d62728",
  band: "rgba(148, 103, 189, 0.16)",
  bandEdge: "rgba(111, 66, 193, 0.55)",
  bandText: "#4b2a85",
  grid: "rgba(0, 0, 0, 0.07)",
  axis: "#4a5563",
};

const FONT = "system-ui, sans-serif";

const pad2 = (n) => String(n).padStart(2, "0");

// 24-hour clock ticks in the browser's time zone: HH:MM, or HH:MM:SS below a minute.
function clockTicks(u, splits, axisIdx, space, incr) {
  return splits.map((t) => {
    const d = new Date(t * 1000);
    const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
    return incr >= 60 ? hm : `${hm}:${pad2(d.getSeconds())}`;
  });
}

export function axes() {
  const x = {
    stroke: COLORS.axis,
    grid: { stroke: COLORS.grid, width: 1 },
    ticks: { stroke: COLORS.grid, width: 1 },
    font: `12px ${FONT}`,
    space: 64,
    // Whole seconds at least: labels show no fractions, so sub-second ticks (a chart
    // whose samples span under a second) would repeat one label.
    incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200,
            86400],
    values: clockTicks,
  };
  const y = {
    stroke: COLORS.axis,
    grid: { stroke: COLORS.grid, width: 1 },
    ticks: { stroke: COLORS.grid, width: 1 },
    font: `12px ${FONT}`,
    size: 56,
  };
  return [x, y];
}

// Shaded spans [{start, end, label}] drawn under the series, labels on top.
function bandsPlugin(getBands) {
  const spans = (u) => {
    const { left, top, width, height } = u.bbox;
    const out = [];
    for (const band of getBands()) {
      let x0 = u.valToPos(band.start, "x", true);
      let x1 = u.valToPos(band.end, "x", true);
      if (x1 < left || x0 > left + width) continue;
      x0 = Math.max(x0, left);
      x1 = Math.min(x1, left + width);
      out.push({ band, x0, x1: Math.max(x1, x0 + 2), top, height });
    }
    return out;
  };
  return {
    hooks: {
      drawClear: [
        (u) => {
          const ctx = u.ctx;
          ctx.save();
          for (const { x0, x1, top, height } of spans(u)) {
            ctx.fillStyle = COLORS.band;
            ctx.fillRect(x0, top, x1 - x0, height);
            ctx.strokeStyle = COLORS.bandEdge;
            ctx.lineWidth = uPlot.pxRatio;
            ctx.beginPath();
            ctx.moveTo(x0, top);
            ctx.lineTo(x0, top + height);
            ctx.moveTo(x1, top);
            ctx.lineTo(x1, top + height);
            ctx.stroke();
          }
          ctx.restore();
        },
      ],
      draw: [
        (u) => {
          const ctx = u.ctx;
          const px = uPlot.pxRatio;
          ctx.save();
          ctx.font = `600 ${12 * px}px ${FONT}`;
          ctx.textAlign = "left";
          ctx.textBaseline = "top";
          for (const { band, x0, x1, top } of spans(u)) {
            if (!band.label) continue;
            const text = String(band.label);
            const w = ctx.measureText(text).width;
            const pad = 4 * px;
            const x = Math.max(x0, Math.min((x0 + x1) / 2 - w / 2, x1 - w));
            ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
            ctx.fillRect(x - pad, top + 3 * px, w + 2 * pad, 16 * px);
            ctx.fillStyle = COLORS.bandText;
            ctx.fillText(text, x, top + 5 * px);
          }
          ctx.restore();
        },
      ],
    },
  };
}

// The live chart of one sensor: x is the sensor's clock (epoch seconds).
export class LiveChart {
  constructor(container, { height = 340, windowS = 600 } = {}) {
    this.container = container;
    this.windowS = windowS;
    this.bands = [];
    this.lastT = null;
    this.data = [[], [], [], []];
    const opts = {
      width: Math.max(300, container.clientWidth),
      height,
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: {
          time: true,
          range: (u, min, max) => {
            const hi = this.lastT ?? max ?? 0;
            return [hi - this.windowS, hi];
          },
        },
        y: {
          range: (u, min, max) => {
            if (min === null || max === null) return [0, 1];
            const span = max - min || Math.abs(max) || 1;
            return [min - span * 0.08, max + span * 0.22];  // headroom for band labels
          },
        },
      },
      axes: axes(),
      series: [
        { label: "time" },
        // smoothed first, so that the thinner raw line stays visible on top of it
        { label: "smoothed", stroke: COLORS.smoothed, width: 2.5, points: { show: false } },
        { label: "value", stroke: COLORS.value, width: 1.25, points: { show: false } },
        {
          label: "anomalous",
          stroke: COLORS.anomalous,
          fill: COLORS.anomalous,
          paths: () => null,
          points: { show: true, size: 7, width: 1, stroke: COLORS.anomalous,
                    fill: COLORS.anomalous, space: 0 },
        },
      ],
      plugins: [bandsPlugin(() => this.bands)],
    };
    this.plot = new uPlot(opts, this.data, container);
    this.plot.root.dataset.role = "live-chart";
    this._onResize = () => this.plot.setSize({
      width: Math.max(300, this.container.clientWidth), height,
    });
    window.addEventListener("resize", this._onResize);
  }

  setWindow(seconds) {
    this.windowS = seconds;
    this.plot.setData(this.data, true);
  }

  // rows: [{t, value, smoothed, anomalous}] in time order; bands: [{start, end, label}]
  update(rows, bands, lastT) {
    const xs = new Array(rows.length);
    const raw = new Array(rows.length);
    const smooth = new Array(rows.length);
    const anomalies = new Array(rows.length);
    rows.forEach((r, i) => {
      xs[i] = r.t;
      raw[i] = r.value;
      smooth[i] = r.smoothed;
      anomalies[i] = r.anomalous ? r.value : null;
    });
    this.lastT = lastT ?? (rows.length ? rows[rows.length - 1].t : null);
    this.bands = bands;
    this.data = [xs, smooth, raw, anomalies];
    this.plot.setData(this.data, true);
  }
}

// A small chart of one event: context before + readings + context after, span shaded.
export function eventChart(container, event, { height = 150 } = {}) {
  const points = [
    ...(event.context_before || []),
    ...(event.readings || []),
    ...(event.context_after || []),
  ];
  points.sort((a, b) => a[0] - b[0]);
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const bands = [{ start: event.start_t, end: event.end_t, label: "" }];
  const opts = {
    width: Math.max(200, container.clientWidth),
    height,
    legend: { show: false },
    cursor: { show: false },
    scales: { x: { time: true }, y: { auto: true } },
    axes: axes().map((a, i) => (i === 1 ? { ...a, size: 48, space: 20, font: `11px ${FONT}` }
                                        : { ...a, font: `11px ${FONT}` })),
    series: [
      {},
      { label: "value", stroke: COLORS.value, width: 1.5, points: { show: false } },
    ],
    plugins: [bandsPlugin(() => bands)],
  };
  const plot = new uPlot(opts, [xs, ys], container);
  plot.root.dataset.role = "event-chart";
  return plot;
}
