// MLOps Lab UI: plain ES modules over the app's Tauri commands. Every
// number shown comes from a command; charts arrive as SVG rendered on the
// Rust side (lab-charts). Long work streams events over a Channel and can
// be cancelled by its job id.
const { invoke, Channel } = window.__TAURI__.core;

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const num = (x, d = 4) => (typeof x === "number" ? (Number.isInteger(x) ? String(x) : x.toFixed(d)) : x == null ? "—" : esc(x));
const when = (ms) => (ms ? new Date(ms).toLocaleString() : "—");
const mb = (b) => (b == null ? "—" : `${(b / 1e6).toFixed(1)} MB`);
const STAGES = ["data", "train", "validate", "package", "deploy", "monitor", "retrain"];
const title = (s) => s[0].toUpperCase() + s.slice(1);
let jobSeq = 0;
const newJob = (kind) => `${kind}-${Date.now()}-${++jobSeq}`;

// ---------------------------------------------------------------- errors
function toast(err) {
  const t = $("#toast");
  // An error right after a success must not keep the success style.
  t.classList.remove("ok-toast");
  t.textContent = err && err.message ? `${err.message}  [${err.code}]` : String(err);
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 10000);
}

async function call(cmd, args) {
  try { return await invoke(cmd, args); } catch (e) { toast(e); throw e; }
}

// Docker's status, asked by the views that show it; each answer also
// updates the line at the bottom of the navigation.
async function dockerStatus() {
  const d = await call("docker_status");
  const s = $("#docker");
  s.textContent = d.available ? "Docker: running" : "Docker: not available (see Deployments)";
  s.title = d.message;
  s.className = `small ${d.available ? "ok" : "warn"}`;
  return d;
}

// ---------------------------------------------------------- long work
// Runs `cmd` as a cancellable job. `ui` = {button, cancel, log, onEvent}.
async function longWork(cmd, args, ui) {
  const job = newJob(cmd);
  const onEvent = new Channel();
  onEvent.onmessage = (e) => {
    if (ui.log) {
      const li = document.createElement("li");
      const icon = { "stage-started": "▶", "stage-progress": "…", "stage-finished": "✓", "stage-failed": "✗" }[e.event] || "·";
      li.className = e.event === "stage-failed" ? "bad" : e.event === "stage-finished" ? "ok" : "";
      li.textContent = `${icon} ${e.stage}: ${e.message}${e.millis != null ? ` (${e.millis} ms)` : ""}`;
      if (e.event === "stage-progress" && ui.log.lastChild && ui.log.lastChild.dataset.progress === e.stage) ui.log.lastChild.replaceWith(li);
      else ui.log.append(li);
      if (e.event === "stage-progress") li.dataset.progress = e.stage;
      ui.log.scrollTop = ui.log.scrollHeight;
    }
    ui.onEvent?.(e);
  };
  if (ui.button) ui.button.disabled = true;
  if (ui.cancel) {
    ui.cancel.hidden = false;
    ui.cancel.disabled = false;
    ui.cancel.onclick = async () => { ui.cancel.disabled = true; await invoke("cancel", { job }); };
  }
  try {
    return await call(cmd, { ...args, job, onEvent });
  } finally {
    if (ui.button) ui.button.disabled = false;
    if (ui.cancel) ui.cancel.hidden = true;
  }
}

// Periodic refresh that stops when the view changes.
let timers = [];
function every(ms, f) { const id = setInterval(f, ms); timers.push(id); return id; }
function stopTimers() { timers.forEach(clearInterval); timers = []; }

// ------------------------------------------------------------- sorting
// A sortable, filterable table: columns [{key, label, num, get, html}].
function dataTable(el, { id, columns, rows, filter = true, rowAttrs = () => "", empty = "Nothing yet." }) {
  let sortKey = null, dir = 1, query = "";
  el.innerHTML = `${filter ? `<div class="row"><label for="${id}-filter">Filter</label><input id="${id}-filter" type="search" placeholder="type to filter rows"></div>` : ""}
    <table id="${id}"><thead><tr>${columns.map((c) => `<th scope="col" class="${c.num ? "num" : ""}" data-key="${c.key}">${c.sort === false ? esc(c.label) : `<button class="sort" type="button">${esc(c.label)}</button>`}</th>`).join("")}</tr></thead><tbody></tbody></table>
    <p class="muted" hidden>${esc(empty)}</p>`;
  const body = $("tbody", el);
  const render = () => {
    let shown = rows.filter((r) => !query || columns.some((c) => String(c.get(r) ?? "").toLowerCase().includes(query)));
    if (sortKey) {
      const c = columns.find((c) => c.key === sortKey);
      shown = [...shown].sort((a, b) => {
        const x = c.get(a), y = c.get(b);
        if (x == null) return 1; if (y == null) return -1;
        return (typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y))) * dir;
      });
    }
    body.innerHTML = shown.map((r) => `<tr ${rowAttrs(r)}>${columns.map((c) => `<td class="${c.num ? "num" : ""}">${c.html ? c.html(r) : num(c.get(r))}</td>`).join("")}</tr>`).join("");
    $("p.muted", el).hidden = shown.length > 0;
  };
  $$("th button.sort", el).forEach((b) => b.addEventListener("click", () => {
    const th = b.parentElement, key = th.dataset.key;
    dir = sortKey === key ? -dir : 1; sortKey = key;
    $$("th", el).forEach((h) => h.removeAttribute("aria-sort"));
    th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
    render();
  }));
  if (filter) $(`#${id}-filter`, el).addEventListener("input", (e) => { query = e.target.value.trim().toLowerCase(); render(); });
  render();
  return { render };
}

const chart = (svg, label) => (svg ? `<figure class="chart" role="img" aria-label="${esc(label)}">${svg}</figure>` : "");

// --------------------------------------------------------------- views
const views = {};

views.home = async (el) => {
  const [ov, datasets, docker] = await Promise.all([call("overview"), call("datasets"), dockerStatus()]);
  const scenarios = datasets.flatMap((d) => d.scenarios.map((s) => ({ s, d: d.title })));
  el.innerHTML = `<h1>Pipeline</h1>
    ${docker.available ? "" : `<div class="card banner" id="docker-banner">${esc(docker.message)}</div>`}
    <p class="muted">Data → Train → Validate → Package → Deploy → Monitor → Retrain, on your machine. Each card shows the stage's latest result; open it for details.</p>
    <div class="stages" id="stages" aria-label="Pipeline stages"></div>
    <div class="card">
      <h2>Run the whole pipeline</h2>
      <p class="muted small">Trains on a scenario's reference slice, builds a FROM scratch image, deploys it behind a stable endpoint, sends drifted traffic with late labels, evaluates drift and alerts, and retrains when an alert asks for it.</p>
      <div class="row">
        <label for="scenario">Scenario</label>
        <select id="scenario">${scenarios.map(({ s, d }) => `<option value="${esc(s)}" ${s === "auto-mpg-drift" ? "selected" : ""}>${esc(s)} (${esc(d)})</option>`).join("")}</select>
        <button id="run-pipeline" type="button">Run the whole pipeline</button>
        <button id="cancel-pipeline" class="danger" type="button" hidden>Cancel</button>
      </div>
      <ul class="events" id="pipeline-events" aria-live="polite"></ul>
      <div id="pipeline-result"></div>
    </div>
    <p class="muted small">Lab home: <code>${esc(ov.lab_home)}</code></p>`;
  const link = { data: "data", train: "experiments", validate: "models", package: "deployments", deploy: "deployments", monitor: "monitoring", retrain: "monitoring" };
  const paint = (stages) => {
    $("#stages", el).innerHTML = stages.map((s, i) => `<a class="stage ${s.health}" href="#${link[s.stage]}" data-stage="${s.stage}">
      <span class="name">${title(s.stage)}${i < 6 ? '<span class="arrow" aria-hidden="true">→</span>' : ""}</span>
      <span class="headline">${esc(s.headline)}</span><span class="detail">${esc(s.detail)}</span>
      <progress max="1" hidden></progress></a>`).join("");
  };
  paint(ov.stages);
  $("#run-pipeline", el).onclick = async () => {
    $("#pipeline-events", el).innerHTML = "";
    $("#pipeline-result", el).innerHTML = "";
    $$(".stage", el).forEach((s) => { s.className = "stage"; });
    const card = (stage) => $(`.stage[data-stage="${stage}"]`, el);
    try {
      const r = await longWork("run_pipeline", { scenario: $("#scenario", el).value }, {
        button: $("#run-pipeline", el), cancel: $("#cancel-pipeline", el), log: $("#pipeline-events", el),
        onEvent: (e) => {
          const c = card(e.stage); if (!c) return;
          const bar = $("progress", c);
          if (e.event === "stage-started") { c.className = "stage running"; $(".detail", c).textContent = e.message; }
          if (e.event === "stage-progress") { $(".detail", c).textContent = e.message; if (e.fraction != null) { bar.hidden = false; bar.value = e.fraction; } }
          if (e.event === "stage-finished") { c.className = "stage done"; $(".detail", c).textContent = e.message; bar.hidden = true; }
          if (e.event === "stage-failed") { c.className = "stage failed"; $(".detail", c).textContent = e.message; bar.hidden = true; }
        },
      });
      $("#pipeline-result", el).innerHTML = `<div class="card" id="pipeline-summary"><h3>Pipeline finished in ${r.total_seconds.toFixed(1)} s</h3><dl class="kv">
        <dt>Endpoint</dt><dd><code>${esc(r.endpoint)}</code> (${esc(r.runtime)})</dd>
        <dt>Model</dt><dd>${esc(r.model)} v${r.version}; serving v${r.serving_version} now</dd>
        <dt>Image</dt><dd>${esc(r.image ?? "local process")} ${r.image_size_bytes ? `(${mb(r.image_size_bytes)})` : ""}</dd>
        <dt>Traffic</dt><dd>${r.traffic.sent} sent, ${r.traffic.ok} ok, p99 ${num(r.traffic.p99_ms, 1)} ms</dd>
        <dt>Drift</dt><dd>${r.dataset_drift ? `<span class="warn">drift</span> in ${r.drifted_features.map(esc).join(", ")}` : "no dataset drift"}</dd>
        <dt>Alerts</dt><dd>${r.alerts.map(esc).join("; ") || "none"}</dd>
        <dt>Retrain</dt><dd>${r.retrain ? esc(r.retrain.decision) : "not needed"}</dd></dl></div>`;
    } catch (e) { /* shown in the log and the toast */ }
    paint((await call("overview")).stages);
  };
};

views.data = async (el) => {
  const datasets = await call("datasets");
  el.innerHTML = `<h1>Data</h1>
    <div class="card"><div class="row">
      <label for="dataset">Dataset</label>
      <select id="dataset">${datasets.map((d) => `<option value="${esc(d.name)}">${esc(d.title)} (${d.rows} rows)</option>`).join("")}</select>
      <button id="profile" type="button">Profile</button>
      <button id="validate" type="button" class="ghost">Validate</button>
    </div><p id="dataset-about" class="muted small"></p></div>
    <div class="card"><h2>Train a model</h2><div class="row">
      <label for="model">Model</label><select id="model"></select>
      <label for="experiment">Experiment</label><input id="experiment" placeholder="Default">
      <button id="train" type="button">Train</button><button id="cancel-train" type="button" class="danger" hidden>Cancel</button>
    </div><div id="params" class="row small"></div>
    <ul class="events" id="events" aria-live="polite"></ul><div id="train-out"></div></div>
    <div id="result"></div>`;
  const ds = () => $("#dataset", el).value;
  const about = () => {
    const d = datasets.find((d) => d.name === ds());
    $("#dataset-about", el).textContent = d ? `${d.description} Targets: ${d.targets.join(", ")}.` : "";
  };
  const loadModels = async () => {
    const models = await call("models_for", { dataset: ds() });
    $("#model", el).innerHTML = models.map((m) => `<option>${esc(m.name)}</option>`).join("");
    const showParams = () => {
      const m = models.find((m) => m.name === $("#model", el).value);
      $("#params", el).innerHTML = (m?.params ?? []).map((p) => `<label title="${esc(p.help)}">${esc(p.name)} <input data-param="${esc(p.name)}" placeholder="${esc(p.default)}" size="8" aria-label="${esc(p.name)}: ${esc(p.help)}"></label>`).join("");
    };
    $("#model", el).onchange = showParams;
    showParams();
  };
  $("#dataset", el).onchange = () => { about(); loadModels(); };
  about();
  await loadModels();
  $("#profile", el).onclick = async () => {
    const p = await call("profile", { dataset: ds() });
    $("#result", el).innerHTML = `<div class="card"><h2>Profile: ${esc(p.source)} — ${p.rows} rows</h2>
      <table id="profile-table"><thead><tr><th>column</th><th>type</th><th>kind</th><th class="num">nulls</th><th class="num">unique</th><th class="num">min</th><th class="num">mean</th><th class="num">std</th><th class="num">max</th><th>top values</th></tr></thead>
      <tbody>${p.columns.map((c) => `<tr><td>${esc(c.name)}</td><td>${esc(c.dtype)}</td><td>${esc(c.kind)}</td><td class="num">${c.null_count}</td><td class="num">${c.unique}</td><td class="num">${num(c.min)}</td><td class="num">${num(c.mean)}</td><td class="num">${num(c.std)}</td><td class="num">${num(c.max)}</td><td>${c.top.map(([v, n]) => `${esc(v)} (${n})`).join(", ")}</td></tr>`).join("")}</tbody></table></div>
      <h2>Histograms</h2><div class="charts">${p.charts.map((c) => chart(c.svg, `histogram of ${c.column}`)).join("")}</div>`;
  };
  $("#validate", el).onclick = async () => {
    const r = await call("validate", { dataset: ds() });
    $("#result", el).innerHTML = `<div class="card"><h2>Validation of ${esc(r.source)}: <span class="${r.failed ? "bad" : "ok"}">${r.passed} passed, ${r.failed} failed</span></h2>
      <table id="validation-table"><thead><tr><th>expectation</th><th>column</th><th>result</th><th>expected</th><th>observed</th></tr></thead>
      <tbody>${r.results.map((x) => `<tr><td>${esc(x.expectation)}</td><td>${esc(x.column ?? "")}</td><td class="${x.passed ? "ok" : "bad"}">${x.passed ? "passed" : "failed"}</td><td>${esc(x.expected)}</td><td>${esc(x.observed)}</td></tr>`).join("")}</tbody></table></div>`;
  };
  $("#train", el).onclick = async () => {
    $("#events", el).innerHTML = "";
    $("#train-out", el).innerHTML = "";
    const params = Object.fromEntries($$("#params input", el).filter((i) => i.value.trim()).map((i) => [i.dataset.param, i.value.trim()]));
    const r = await longWork("train", { args: { dataset: ds(), model: $("#model", el).value, params, experiment: $("#experiment", el).value.trim() || null } },
      { button: $("#train", el), cancel: $("#cancel-train", el), log: $("#events", el) });
    $("#train-out", el).innerHTML = `<div class="card" id="train-result"><h2>Run ${esc(r.run_name)}</h2>
      <p>${Object.entries(r.metrics).map(([k, v]) => `${esc(k)} <b>${num(v)}</b>`).join(" · ")}</p>
      <p>Validation gate: <span class="${r.gate.passed ? "ok" : "bad"}">${r.gate.passed ? "passed" : "failed"}</span>${r.champion ? ` · vs champion v${r.champion.version}: ${r.champion.comparison.challenger_wins ? "better" : "not better"}` : ""}</p>
      <p><a href="#experiments/${esc(r.run_id)}">Open the run in Experiments</a></p></div>`;
  };
};

views.experiments = async (el, arg) => {
  const runs = await call("runs");
  el.innerHTML = `<h1>Experiments</h1>
    <div class="card"><div class="row spread"><span class="muted">Select two or more runs to compare them side by side.</span>
      <button id="compare" type="button" disabled>Compare selected</button></div><div id="runs"></div></div>
    <div id="detail"></div>`;
  const selected = new Set();
  dataTable($("#runs", el), {
    id: "runs-table", rows: runs, empty: "No runs yet: open Data and train a model.",
    rowAttrs: (r) => `data-run="${esc(r.run_id)}"${arg && r.run_id.startsWith(arg) ? ' class="selected" aria-current="true"' : ""}`,
    columns: [
      { key: "name", label: "run", get: (r) => r.run_name, html: (r) => `<button class="ghost small open" type="button" data-run="${esc(r.run_id)}">${esc(r.run_name)}</button>` },
      { key: "status", label: "status", get: (r) => r.status, html: (r) => `<span class="${r.status === "FINISHED" ? "ok" : "bad"}">${esc(r.status)}</span>` },
      { key: "dataset", label: "dataset", get: (r) => r.params.dataset },
      { key: "model", label: "model", get: (r) => r.params.model },
      { key: "metric", label: "headline metric", num: true, get: (r) => r.headline?.[1], html: (r) => (r.headline ? `<span class="muted small">${esc(r.headline[0])}</span> ${num(r.headline[1])}` : "—") },
      { key: "started", label: "started", get: (r) => r.start_time, html: (r) => esc(when(r.start_time)) },
      { key: "pick", label: "compare", sort: false, get: () => "", html: (r) => `<input type="checkbox" class="pick" data-run="${esc(r.run_id)}" aria-label="compare ${esc(r.run_name)}" ${selected.has(r.run_id) ? "checked" : ""}>` },
    ],
  });
  $("#runs", el).addEventListener("click", (e) => {
    const open = e.target.closest("button.open");
    if (open) location.hash = `#experiments/${open.dataset.run}`;
  });
  $("#runs", el).addEventListener("change", (e) => {
    if (!e.target.classList.contains("pick")) return;
    if (e.target.checked) selected.add(e.target.dataset.run); else selected.delete(e.target.dataset.run);
    $("#compare", el).disabled = selected.size < 2;
  });
  $("#compare", el).onclick = async () => {
    const c = await call("compare_runs", { runIds: [...selected] });
    const keys = [...new Set(c.runs.flatMap((r) => Object.keys(r.params)))].sort();
    const metrics = c.metric_keys.filter((k) => !k.startsWith("learning_curve/"));
    $("#detail", el).innerHTML = `<div class="card" id="comparison"><h2>Comparison of ${c.runs.length} runs</h2>
      <table><thead><tr><th></th>${c.runs.map((r) => `<th>${esc(r.run_name)}</th>`).join("")}</tr></thead><tbody>
      <tr><th colspan="${c.runs.length + 1}">metrics (best in green)</th></tr>
      ${metrics.map((k) => `<tr><td>${esc(k)}</td>${c.runs.map((r) => `<td class="num ${c.best[k] === r.run_id ? "best" : ""}">${num(r.metrics[k])}</td>`).join("")}</tr>`).join("")}
      <tr><th colspan="${c.runs.length + 1}">params (differing in amber)</th></tr>
      ${keys.map((k) => `<tr><td class="${c.differing_params.includes(k) ? "differs" : ""}">${esc(k)}</td>${c.runs.map((r) => `<td class="wrap">${esc(r.params[k] ?? "—")}</td>`).join("")}</tr>`).join("")}
      </tbody></table>${chart(c.curves_svg, "learning curves of the compared runs")}</div>`;
  };
  if (arg) {
    const d = await call("run_detail", { runId: arg });
    const metrics = Object.entries(d.run.metrics).filter(([k]) => !k.startsWith("learning_curve/"));
    $("#detail", el).innerHTML = `<div class="card" id="run-detail"><div class="row spread"><h2>Run ${esc(d.run.run_name)}</h2>
        <span><button id="register" type="button" class="small">Register as a model version</button></span></div>
      <p class="muted small">${esc(d.run.run_id)} · experiment ${esc(d.experiment)} · ${esc(d.run.status)} · ${esc(when(d.run.start_time))}
        ${d.registered.length ? ` · registered as ${d.registered.map((v) => `${esc(v.name)} v${v.version}`).join(", ")}` : ""}</p>
      ${d.run.tags["mlops.error"] ? `<p class="bad">${esc(d.run.tags["mlops.error"])}</p>` : ""}
      <div class="grid2"><div><h3>Metrics</h3><table><tbody>${metrics.map(([k, v]) => `<tr><td>${esc(k)}</td><td class="num">${num(v)}</td></tr>`).join("")}</tbody></table></div>
      <div><h3>Params</h3><table><tbody>${Object.entries(d.run.params).map(([k, v]) => `<tr><td>${esc(k)}</td><td class="wrap">${esc(v)}</td></tr>`).join("")}</tbody></table></div></div>
      <h3>Metric history</h3>${d.history_svg ? chart(d.history_svg, `learning curve of ${d.primary_metric}`) : '<p class="muted">This run logged no metric history.</p>'}
      ${d.confusion_svg ? `<h3>Confusion matrix</h3>${chart(d.confusion_svg, "confusion matrix on the test split")}` : ""}</div>`;
    $("#register", el).onclick = async () => {
      const v = await call("register", { runId: d.run.run_id, name: null });
      toastOk(`Registered ${v.name} v${v.version}. Promote it in Models.`);
    };
  }
};

function toastOk(text) {
  const t = $("#toast");
  t.textContent = text;
  t.hidden = false;
  t.classList.add("ok-toast");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; t.classList.remove("ok-toast"); }, 5000);
}

views.models = async (el) => {
  const models = await call("models");
  el.innerHTML = `<h1>Models</h1>
    <p class="muted">Registered versions and their aliases. Promoting a version makes it <b>champion</b>; when a service serves the model, the new champion is rolled out with no dropped request.</p>
    <ul class="events" id="model-events" aria-live="polite"></ul><button id="cancel-model" class="danger" type="button" hidden>Cancel</button>
    ${models.length ? "" : '<div class="card muted">No registered model yet: train a run, then register it from its detail in Experiments (the pipeline registers its own).</div>'}
    ${models.map((m) => `<div class="card model" data-model="${esc(m.name)}"><div class="row spread"><h2>${esc(m.name)}</h2>
      <span>${Object.entries(m.aliases).map(([a, v]) => `<span class="pill ${esc(a)}">${esc(a)} → v${v}</span>`).join("")}</span></div>
      ${m.service ? `<p class="small">Service <b>${esc(m.service.name)}</b> serves v${m.service.active_version ?? "—"} at <code>http://127.0.0.1:${m.service.port}</code>
        ${m.service.previous_version ? `<button type="button" class="ghost small rollback" data-service="${esc(m.service.name)}">Roll back to v${m.service.previous_version}</button>` : ""}</p>` : '<p class="muted small">Not served yet.</p>'}
      <table><thead><tr><th>version</th><th>aliases</th><th>run</th><th>metrics</th><th>created</th><th>actions</th></tr></thead><tbody>
      ${m.versions.slice().reverse().map((v) => `<tr><td>v${v.version}</td><td>${v.aliases.map((a) => `<span class="pill ${esc(a)}">${esc(a)}</span>`).join("")}</td>
        <td><a href="#experiments/${esc(v.run_id)}">${esc(v.run_name)}</a></td>
        <td class="small">${Object.entries(v.metrics).filter(([k]) => k !== "fit_seconds").slice(0, 4).map(([k, x]) => `${esc(k)} ${num(x, 3)}`).join(" · ")}</td>
        <td class="small">${esc(when(v.creation_time))}</td>
        <td class="row">${v.aliases.includes("champion") ? "" : `<button type="button" class="small promote" data-version="${v.version}">Promote to champion</button>`}
          <button type="button" class="ghost small rollout" data-version="${v.version}">${m.service?.active_version === v.version ? "Redeploy" : "Deploy"}</button></td></tr>`).join("")}
      </tbody></table></div>`).join("")}`;
  const work = (cmd, args, button) => longWork(cmd, args, { button, cancel: $("#cancel-model", el), log: $("#model-events", el) })
    .then(() => views.models(el)).catch(() => {});
  el.onclick = (e) => {
    const b = e.target.closest("button"); if (!b) return;
    const model = b.closest(".model")?.dataset.model;
    if (b.classList.contains("promote")) work("promote", { name: model, version: Number(b.dataset.version) }, b);
    if (b.classList.contains("rollout")) work("rollout", { model: `${model}:${b.dataset.version}`, service: null }, b);
    if (b.classList.contains("rollback")) work("rollback", { service: b.dataset.service }, b);
  };
};

views.deployments = async (el) => {
  const [docker, list] = await Promise.all([dockerStatus(), call("deployments", { all: true })]);
  el.innerHTML = `<h1>Deployments</h1>
    <div class="card ${docker.available ? "" : "banner"}"><span class="${docker.available ? "ok" : "warn"}">${esc(docker.message)}</span></div>
    <div class="card" id="deployments"></div>
    <div class="grid2"><div class="card" id="try"><h2>Try a prediction</h2><p class="muted">Pick a running deployment above.</p></div>
    <div class="card" id="logs"><h2>Live logs</h2><p class="muted">Pick a deployment above.</p></div></div>`;
  dataTable($("#deployments", el), {
    id: "deployments-table", rows: list, empty: "Nothing deployed yet: deploy a model from Models, or run the whole pipeline from Home.",
    rowAttrs: (d) => `data-deployment="${esc(d.deployment_id)}"`,
    columns: [
      { key: "name", label: "deployment", get: (d) => d.name },
      { key: "model", label: "model", get: (d) => `${d.model_name} v${d.model_version}` },
      { key: "runtime", label: "runtime", get: (d) => d.runtime },
      { key: "status", label: "status", get: (d) => d.status, html: (d) => `<span class="${d.status === "running" ? "ok" : "muted"}">${esc(d.status)}</span>` },
      { key: "health", label: "health", get: (d) => d.health, html: (d) => `<span class="${d.ready ? "ok" : d.status === "running" ? "bad" : "muted"}">${esc(d.health)}</span>` },
      { key: "image", label: "image", get: (d) => d.image_tag ?? "local process" },
      { key: "size", label: "size", num: true, get: (d) => d.image_size_bytes, html: (d) => mb(d.image_size_bytes) },
      { key: "endpoint", label: "endpoint", get: (d) => d.endpoint, html: (d) => `<code>${esc(d.endpoint)}</code>` },
      { key: "ready", label: "start→ready", num: true, get: (d) => d.start_to_ready_ms, html: (d) => `${d.start_to_ready_ms} ms` },
      { key: "actions", label: "", sort: false, get: () => "", html: (d) => `<span class="row"><button type="button" class="small logs" data-id="${esc(d.deployment_id)}">Logs</button>${d.status === "running" ? `<button type="button" class="small try" data-id="${esc(d.deployment_id)}">Try</button><button type="button" class="ghost small stop" data-id="${esc(d.deployment_id)}">Stop</button>` : ""}</span>` },
    ],
  });
  const byId = (id) => list.find((d) => d.deployment_id === id);
  let logTimer = null;
  const showLogs = (d) => {
    if (logTimer) clearInterval(logTimer);
    $("#logs", el).innerHTML = `<div class="row spread"><h2>Live logs: ${esc(d.name)}</h2><label><input type="checkbox" id="follow" checked> follow</label></div><pre class="log tall" id="log-text" tabindex="0" aria-label="log lines"></pre>`;
    const pull = async () => {
      if (!$("#follow", el)?.checked) return;
      try {
        const text = await invoke("deployment_logs", { deployment: d.deployment_id, tail: 200 });
        const pre = $("#log-text", el); if (!pre) return;
        pre.textContent = text || "(no log lines yet)"; pre.scrollTop = pre.scrollHeight;
      } catch (e) { const pre = $("#log-text", el); if (pre) pre.textContent = `${e.message} [${e.code}]`; }
    };
    pull();
    logTimer = every(2000, pull);
  };
  const showTry = async (d) => {
    $("#try", el).innerHTML = `<h2>Try a prediction: ${esc(d.name)}</h2>
      <div class="row"><label for="row">Dataset row</label><input id="row" type="number" min="0" value="0"><button type="button" id="build">Build request</button></div>
      <div id="try-body"></div>`;
    const build = async () => {
      const s = await call("sample_request", { deployment: d.deployment_id, row: Number($("#row", el).value) || 0 });
      $("#try-body", el).innerHTML = `<p class="muted small">Row ${s.row} of ${esc(s.dataset)} (${s.rows} rows)${s.label != null ? `; its true label is <b>${esc(JSON.stringify(s.label))}</b>` : ""}.</p>
        <div class="row"><label for="path">POST</label><input id="path" value="${esc(s.path)}" size="28"><label for="ctype">Content-Type</label><input id="ctype" value="${esc(s.content_type)}" size="18"></div>
        <label for="body">Body</label><textarea id="body" class="code">${esc(s.body)}</textarea>
        <div class="row"><button type="button" id="send">Send</button></div><div id="exchange"></div>`;
      $("#send", el).onclick = async () => {
        const x = await call("send_request", { deployment: d.deployment_id, path: $("#path", el).value, contentType: $("#ctype", el).value, body: $("#body", el).value });
        $("#exchange", el).innerHTML = `<h3>Request</h3><pre class="log" id="raw-request">${esc(x.request)}</pre>
          <h3>Response <span class="${x.status === 200 ? "ok" : "bad"}">${x.status}</span> <span class="muted small">${x.latency_ms.toFixed(1)} ms</span></h3><pre class="log" id="raw-response">${esc(x.response)}</pre>
          <div class="row spread"><h3>Same request with curl</h3><button type="button" class="ghost small" id="copy-curl">Copy</button></div><pre class="log" id="curl">${esc(x.curl)}</pre>`;
        $("#copy-curl", el).onclick = () => navigator.clipboard?.writeText(x.curl).then(() => toastOk("curl copied"), () => toast("copy failed: select the text instead"));
      };
    };
    $("#build", el).onclick = build;
    await build();
  };
  $("#deployments", el).addEventListener("click", async (e) => {
    const b = e.target.closest("button"); if (!b || !b.dataset.id) return;
    const d = byId(b.dataset.id);
    if (b.classList.contains("logs")) showLogs(d);
    if (b.classList.contains("try")) showTry(d);
    if (b.classList.contains("stop")) { b.disabled = true; await call("stop_deployment", { deployment: d.deployment_id }).catch(() => {}); views.deployments(el); }
  });
};

views.monitoring = async (el) => {
  const services = await call("services");
  el.innerHTML = `<h1>Monitoring</h1>
    ${services.length ? "" : '<div class="card muted">No service yet: deploy a model from Models, or run the whole pipeline from Home.</div>'}
    <div class="card"><div class="row">
      <label for="service">Service</label><select id="service">${services.map((s) => `<option value="${esc(s.name)}">${esc(s.name)} (v${s.active_version ?? "—"}, ${s.gateway_up ? "up" : "gateway down"})</option>`).join("")}</select>
      <label for="mix">Traffic</label><select id="mix"><option value="reference">reference rows</option><option value="drift" selected>drifted rows</option><option value="shift">reference → drifted</option></select>
      <label for="rps">req/s</label><input id="rps" type="number" min="1" max="10000" value="50">
      <label for="requests">requests</label><input id="requests" type="number" min="1" max="100000" value="1000">
      <button type="button" id="send-traffic">Send traffic</button><button type="button" id="cancel-traffic" class="danger" hidden>Cancel</button>
      <button type="button" id="refresh" class="ghost">Refresh</button>
      <button type="button" id="retrain" class="ghost">Retrain now</button><button type="button" id="cancel-retrain" class="danger" hidden>Cancel</button>
    </div><ul class="events" id="monitor-events" aria-live="polite"></ul></div>
    <div id="monitor"></div>`;
  if (!services.length) { $$("button", el).forEach((b) => { b.disabled = true; }); return; }
  const svc = () => $("#service", el).value;
  let since = null;
  const paint = async () => {
    const m = await invoke("monitor", { service: svc(), sinceMs: since }).catch((e) => { toast(e); return null; });
    if (!m || !$("#monitor", el)) return;
    const d = m.drift;
    $("#monitor", el).innerHTML = `<div class="charts" id="live-charts">
        ${chart(m.charts.requests, "requests per second")}${chart(m.charts.latency, "latency p50 p95 p99")}
        ${chart(m.charts.errors, "error rate")}${chart(m.charts.drift_share, "share of drifted features")}</div>
      <div class="card"><h2>Current span: ${esc(when(m.current_start_ms))} → now · ${m.current ? `${m.current.requests} requests` : "no requests"}</h2>
        ${d ? `<p>Dataset drift: <b class="${d.dataset_drift ? "bad" : "ok"}">${d.dataset_drift ? "yes" : "no"}</b> — ${d.drifted_columns} of ${d.columns.length} features drifted (share ${num(d.share, 2)}).
          ${m.current?.quality_metric ? ` Live ${esc(m.current.quality_metric)} ${num(m.current.quality_value, 3)} on ${m.current.labelled} labelled rows.` : ""}</p>` : `<p class="muted">A drift verdict needs at least 20 predictions in the span.</p>`}
        ${chart(m.drift_scores_svg, "drift score per feature against its threshold")}
        <div class="grid2">${chart(m.prediction_svg, "prediction distribution: reference vs current")}</div></div>
      <div class="card"><h2>Alerts</h2>${m.alerts.length ? `<table id="alerts"><thead><tr><th>when</th><th>metric</th><th class="num">value</th><th class="num">threshold</th><th>message</th></tr></thead><tbody>
        ${m.alerts.map((a) => `<tr><td>${esc(when(a.created_at))}</td><td>${esc(a.metric)}</td><td class="num">${num(a.value, 3)}</td><td class="num">${num(a.threshold, 3)}</td><td>${esc(a.message)}</td></tr>`).join("")}</tbody></table>` : '<p class="muted">No alert has fired.</p>'}
        <p class="muted small">Rules: ${m.rules.map((r) => `${esc(r.metric)} ≥ ${num(r.threshold, 3)}${r.retrain ? " (retrains)" : ""}`).join(" · ")}</p></div>
      ${d ? `<div class="card"><h2>Drift report per feature</h2><table id="drift-table"><thead><tr><th>feature</th><th>test</th><th class="num">score</th><th class="num">threshold</th><th>drift</th><th class="num">reference rows</th><th class="num">current rows</th></tr></thead><tbody>
        ${d.columns.map((c) => `<tr><td>${esc(c.column)}</td><td>${esc(c.test)}</td><td class="num">${num(c.score)}</td><td class="num">${num(c.threshold)}</td><td class="${c.drifted ? "bad" : "ok"}">${c.drifted ? "drifted" : "stable"}</td><td class="num">${c.reference_rows}</td><td class="num">${c.current_rows}</td></tr>`).join("")}</tbody></table>
        <div class="charts">${m.histograms.map((h) => chart(h.svg, `reference and current histograms of ${h.column}`)).join("")}</div></div>` : ""}`;
  };
  $("#service", el).onchange = () => { since = null; paint(); };
  $("#refresh", el).onclick = paint;
  $("#send-traffic", el).onclick = async () => {
    $("#monitor-events", el).innerHTML = "";
    since = Date.now();
    const live = every(2000, paint);
    try {
      await longWork("traffic", { args: { service: svc(), mix: $("#mix", el).value, rps: Number($("#rps", el).value), requests: Number($("#requests", el).value), labels: true } },
        { button: $("#send-traffic", el), cancel: $("#cancel-traffic", el), log: $("#monitor-events", el) });
    } catch (e) { /* cancelled or failed: shown */ }
    clearInterval(live);
    await paint();
  };
  $("#retrain", el).onclick = async () => {
    try {
      const r = await longWork("retrain", { service: svc() }, { button: $("#retrain", el), cancel: $("#cancel-retrain", el), log: $("#monitor-events", el) });
      toastOk(r.decision);
    } catch (e) { /* shown */ }
    await paint();
  };
  await paint();
};

// -------------------------------------------------------------- routing
// Each navigation renders into a fresh element, swapped in when complete,
// so a slow earlier view can never overwrite a later one.
let routeSeq = 0;
async function route() {
  stopTimers();
  const seq = ++routeSeq;
  const [name, arg] = (location.hash || "#home").slice(1).split("/");
  const view = views[name] ? name : "home";
  $$("nav a").forEach((a) => { if (a.dataset.view === view) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current"); });
  document.body.dataset.ready = "";
  const el = document.createElement("div");
  el.className = "view";
  try { await views[view](el, arg && decodeURIComponent(arg)); } catch (e) { if (!el.innerHTML) el.innerHTML = `<div class="card banner error">${esc(e.message ?? e)}</div>`; }
  if (seq !== routeSeq) return;
  const main = $("#view");
  main.dataset.view = view;
  main.replaceChildren(el);
  document.body.dataset.ready = view;
}

// ---------------------------------------------------------------- theme
const THEMES = ["system", "light", "dark"];
function applyTheme(t) {
  if (t === "system") document.documentElement.removeAttribute("data-theme");
  else document.documentElement.dataset.theme = t;
  $("#theme").textContent = `Theme: ${t}`;
}
let theme = localStorage.getItem("theme") || "system";
applyTheme(theme);
$("#theme").addEventListener("click", () => {
  theme = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
  localStorage.setItem("theme", theme);
  applyTheme(theme);
});


window.addEventListener("hashchange", route);
// After the first view is on screen (two frames later), tell the shell:
// `cargo xtask bench app` times cold start to this moment.
route().then(() => requestAnimationFrame(() => requestAnimationFrame(() => invoke("first_paint").catch(() => {}))));
