// Data: pick a dataset, profile or validate it, and train a model on it.
import { $, $$, chart, html, join, num, setHtml } from "../lib/dom.js";
import { call, longWork } from "../lib/ipc.js";

const paramInput = (p) =>
  html`<label title="${p.help}">${p.name} <input data-param="${p.name}" placeholder="${p.default}"
    size="8" aria-label="${p.name}: ${p.help}"></label>`;

const profileRow = (c) =>
  html`<tr><td>${c.name}</td><td>${c.dtype}</td><td>${c.kind}</td>
    <td class="num">${c.null_count}</td><td class="num">${c.unique}</td>
    <td class="num">${num(c.min)}</td><td class="num">${num(c.mean)}</td>
    <td class="num">${num(c.std)}</td><td class="num">${num(c.max)}</td>
    <td>${c.top.map(([v, n]) => `${v} (${n})`).join(", ")}</td></tr>`;

const histogram = (c) => chart(c.svg, `histogram of ${c.column}`);

const profile = (p) =>
  html`<div class="card"><h2>Profile: ${p.source} — ${p.rows} rows</h2>
      <table id="profile-table"><thead><tr><th>column</th><th>type</th><th>kind</th>
        <th class="num">nulls</th><th class="num">unique</th><th class="num">min</th>
        <th class="num">mean</th><th class="num">std</th><th class="num">max</th><th>top values</th>
      </tr></thead><tbody>${p.columns.map(profileRow)}</tbody></table></div>
    <h2>Histograms</h2><div class="charts">${p.charts.map(histogram)}</div>`;

const passed = (ok) => html`<span class="${ok ? "ok" : "bad"}">${ok ? "passed" : "failed"}</span>`;

const validationRow = (x) =>
  html`<tr><td>${x.expectation}</td><td>${x.column ?? ""}</td>
    <td class="${x.passed ? "ok" : "bad"}">${x.passed ? "passed" : "failed"}</td>
    <td>${x.expected}</td><td>${x.observed}</td></tr>`;

const validation = (r) =>
  html`<div class="card"><h2>Validation of ${r.source}:
      <span class="${r.failed ? "bad" : "ok"}">${r.passed} passed, ${r.failed} failed</span></h2>
    <table id="validation-table"><thead><tr><th>expectation</th><th>column</th><th>result</th>
      <th>expected</th><th>observed</th></tr></thead>
    <tbody>${r.results.map(validationRow)}</tbody></table></div>`;

const versusChampion = (c) =>
  c
    ? ` · vs champion v${c.version}: ${c.comparison.challenger_wins ? "better" : "not better"}`
    : "";

const trainResult = (r) =>
  html`<div class="card" id="train-result"><h2>Run ${r.run_name}</h2>
    <p>${join(
      Object.entries(r.metrics).map(([k, v]) => html`${k} <b>${num(v)}</b>`),
      " · ",
    )}</p>
    <p>Validation gate: ${passed(r.gate.passed)}${versusChampion(r.champion)}</p>
    <p><a href="#experiments/${r.run_id}">Open the run in Experiments</a></p></div>`;

export async function data(el) {
  const datasets = await call("datasets");
  setHtml(
    el,
    html`<h1>Data</h1>
    <div class="card"><div class="row">
      <label for="dataset">Dataset</label>
      <select id="dataset">${datasets.map(
        (d) => html`<option value="${d.name}">${d.title} (${d.rows} rows)</option>`,
      )}</select>
      <button id="profile" type="button">Profile</button>
      <button id="validate" type="button" class="ghost">Validate</button>
    </div><p id="dataset-about" class="muted small"></p></div>
    <div class="card"><h2>Train a model</h2><div class="row">
      <label for="model">Model</label><select id="model"></select>
      <label for="experiment">Experiment</label><input id="experiment" placeholder="Default">
      <button id="train" type="button">Train</button>
      <button id="cancel-train" type="button" class="danger" hidden>Cancel</button>
    </div><div id="params" class="row small"></div>
    <ul class="events" id="events" aria-live="polite"></ul><div id="train-out"></div></div>
    <div id="result"></div>`,
  );
  const ds = () => $("#dataset", el).value;
  const about = () => {
    const d = datasets.find((d) => d.name === ds());
    $("#dataset-about", el).textContent = d
      ? `${d.description} Targets: ${d.targets.join(", ")}.`
      : "";
  };
  const loadModels = async () => {
    const models = await call("models_for", { dataset: ds() });
    setHtml($("#model", el), html`${models.map((m) => html`<option>${m.name}</option>`)}`);
    const showParams = () => {
      const m = models.find((m) => m.name === $("#model", el).value);
      setHtml($("#params", el), html`${(m?.params ?? []).map(paramInput)}`);
    };
    $("#model", el).onchange = showParams;
    showParams();
  };
  $("#dataset", el).onchange = () => {
    about();
    loadModels();
  };
  about();
  await loadModels();
  $("#profile", el).onclick = async () => {
    setHtml($("#result", el), profile(await call("profile", { dataset: ds() })));
  };
  $("#validate", el).onclick = async () => {
    setHtml($("#result", el), validation(await call("validate", { dataset: ds() })));
  };
  $("#train", el).onclick = async () => {
    $("#events", el).replaceChildren();
    $("#train-out", el).replaceChildren();
    const params = Object.fromEntries(
      $$("#params input", el)
        .filter((i) => i.value.trim())
        .map((i) => [i.dataset.param, i.value.trim()]),
    );
    const args = {
      dataset: ds(),
      model: $("#model", el).value,
      params,
      experiment: $("#experiment", el).value.trim() || null,
    };
    const r = await longWork(
      "train",
      { args },
      { button: $("#train", el), cancel: $("#cancel-train", el), log: $("#events", el) },
    );
    setHtml($("#train-out", el), trainResult(r));
  };
}
