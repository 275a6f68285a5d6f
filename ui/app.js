// MLOps Lab UI: plain ES modules over the app's Tauri commands.
const { invoke, Channel } = window.__TAURI__.core;

const $ = (sel, root = document) => root.querySelector(sel);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const fmt = (x) => (typeof x === "number" ? (Number.isInteger(x) ? String(x) : x.toFixed(4)) : esc(x));

function toast(err) {
  const t = $("#toast");
  t.textContent = err && err.message ? `${err.message} (${err.code})` : String(err);
  t.hidden = false;
  setTimeout(() => { t.hidden = true; }, 8000);
}

async function call(cmd, args) {
  try { return await invoke(cmd, args); } catch (e) { toast(e); throw e; }
}

const views = {
  async home(el) {
    const runs = await call("runs");
    const stages = ["Data", "Train", "Validate", "Package", "Deploy", "Monitor", "Retrain"];
    el.innerHTML = `<h1>Pipeline</h1>
      <div class="stages" id="stages">${stages.map((s) => `<div class="stage"><b>${s}</b><span class="muted" data-stage="${s.toLowerCase()}"></span></div>`).join("")}</div>
      <div class="card"><span id="latest-run">${runs.length ? `Latest run: ${esc(runs[0].run_name)} (${esc(runs[0].status)})` : "No runs yet: open Data, profile a dataset, then train a model."}</span></div>`;
    const train = $('[data-stage="train"]', el);
    if (runs.length) train.textContent = runs[0].run_name;
  },

  async data(el) {
    const datasets = await call("datasets");
    el.innerHTML = `<h1>Data</h1>
      <div class="card row">
        <label for="dataset">Dataset</label>
        <select id="dataset">${datasets.map((d) => `<option value="${esc(d.name)}">${esc(d.title)} (${d.rows} rows)</option>`).join("")}</select>
        <button id="profile">Profile</button>
        <button id="validate">Validate</button>
        <label for="model">Model</label>
        <select id="model"><option>logistic-regression</option><option>decision-tree</option><option>gaussian-nb</option><option>linear-regression</option></select>
        <button id="train">Train</button>
      </div>
      <div class="card log" id="events" aria-label="Progress"></div>
      <div id="result"></div>`;
    const ds = () => $("#dataset", el).value;
    $("#profile", el).onclick = async () => {
      const p = await call("profile", { dataset: ds() });
      $("#result", el).innerHTML = `<div class="card"><h2>Profile: ${esc(p.source ?? ds())}</h2>
        <table id="profile-table"><thead><tr><th>column</th><th>type</th><th>nulls</th><th>unique</th><th>min</th><th>mean</th><th>max</th></tr></thead>
        <tbody>${p.columns.map((c) => `<tr><td>${esc(c.name)}</td><td>${esc(c.dtype)}</td><td>${fmt(c.null_count)}</td><td>${fmt(c.unique)}</td><td>${fmt(c.min)}</td><td>${fmt(c.mean)}</td><td>${fmt(c.max)}</td></tr>`).join("")}</tbody></table></div>`;
    };
    $("#validate", el).onclick = async () => {
      const r = await call("validate", { dataset: ds() });
      $("#result", el).innerHTML = `<div class="card"><h2>Validation: <span class="${r.failed ? "bad" : "ok"}">${r.passed} passed, ${r.failed} failed</span></h2></div>`;
    };
    $("#train", el).onclick = async (ev) => {
      const btn = ev.currentTarget;
      btn.disabled = true;
      const log = $("#events", el);
      log.textContent = "";
      const onEvent = new Channel();
      onEvent.onmessage = (e) => { log.textContent += `${e.event} ${e.stage}: ${e.message}\n`; };
      try {
        const r = await call("train", { args: { dataset: ds(), model: $("#model", el).value }, onEvent });
        $("#result", el).innerHTML = `<div class="card" id="train-result"><h2>Run ${esc(r.run_name)}</h2><p>${Object.entries(r.metrics).map(([k, v]) => `${esc(k)} ${fmt(v)}`).join(" · ")}</p><p><a href="#experiments">See it in Experiments</a></p></div>`;
      } finally { btn.disabled = false; }
    };
  },

  async experiments(el) {
    const runs = await call("runs");
    el.innerHTML = `<h1>Experiments</h1><div class="card"><table id="runs-table"><thead><tr><th>run</th><th>status</th><th>dataset</th><th>model</th><th>metrics</th></tr></thead>
      <tbody>${runs.map((r) => `<tr data-run="${esc(r.run_id)}"><td>${esc(r.run_name)}</td><td>${esc(r.status)}</td><td>${esc(r.params.dataset)}</td><td>${esc(r.params.model)}</td><td>${Object.entries(r.metrics).filter(([k]) => !k.startsWith("train_")).slice(0, 4).map(([k, v]) => `${esc(k)} ${fmt(v)}`).join(" · ")}</td></tr>`).join("")}</tbody></table>
      ${runs.length ? "" : '<p class="muted">No runs yet.</p>'}</div>`;
  },
};

async function route() {
  const name = (location.hash || "#home").slice(1);
  const view = views[name] ? name : "home";
  document.querySelectorAll("nav a").forEach((a) => a.toggleAttribute("aria-current", a.dataset.view === view) || a.setAttribute("aria-current", a.dataset.view === view ? "page" : "false"));
  document.querySelectorAll("nav a").forEach((a) => { if (a.dataset.view === view) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current"); });
  const el = $("#view");
  el.dataset.view = view;
  try { await views[view](el); } catch (e) { /* shown by toast */ }
  document.body.dataset.ready = view;
}

window.addEventListener("hashchange", route);
route();
