// The list of models: serving and shadow version of each, linking to its page.
import { el, every, fmtClock, fmtTime, getJSON, isoToEpoch, shortVersion, showError }
  from "./common.js";

const $ = (id) => document.getElementById(id);

function versionCell(version, className) {
  const td = el("td");
  if (!version) {
    td.append(el("span", "muted", "—"));
    return td;
  }
  const code = el("code", `version ${className || ""}`.trim(), shortVersion(version));
  code.title = version;
  td.append(code);
  return td;
}

function row(m) {
  const tr = el("tr");
  tr.dataset.model = m.name;
  const name = el("td", "nowrap");
  const link = el("a", "model-link", m.name);
  link.href = `/models/${encodeURIComponent(m.name)}`;
  name.append(link);
  const trained = el("td", "nowrap");
  if (m.trained) {
    trained.textContent = m.created_at ? fmtTime(isoToEpoch(m.created_at)) : "yes";
  } else {
    trained.append(el("span", "warn", "not trained"));
  }
  tr.append(name, el("td", "muted", m.family), versionCell(m.version, "role-serving"),
            versionCell(m.shadow, "role-shadow"), trained,
            el("td", "meta message", m.description));
  return tr;
}

async function tick() {
  const body = await getJSON("/v1/models");
  $("models").tBodies[0].replaceChildren(...body.models.map(row));
  $("updated").textContent = `Updated ${fmtClock(Date.now() / 1000)}`;
}

every(5000, tick, (err) => showError($("error"), err));
