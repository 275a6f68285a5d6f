// Experiments: the runs, a side-by-side comparison and one run's detail
// (`#experiments/<run id>`).
import { $, chart, html, num, setHtml, when } from "../lib/dom.js";
import { call, toastOk } from "../lib/ipc.js";
import { dataTable } from "../lib/table.js";

const comparison = (c) => {
  const span = c.runs.length + 1;
  const best = (k, r) => (c.best[k] === r.run_id ? "best" : "");
  const metricRow = (k) =>
    html`<tr><td>${k}</td>${c.runs.map(
      (r) => html`<td class="num ${best(k, r)}">${num(r.metrics[k])}</td>`,
    )}</tr>`;
  const differs = (k) => (c.differing_params.includes(k) ? "differs" : "");
  const paramRow = (k) =>
    html`<tr><td class="${differs(k)}">${k}</td>${c.runs.map(
      (r) => html`<td class="wrap">${r.params[k] ?? "—"}</td>`,
    )}</tr>`;
  return html`<div class="card" id="comparison"><h2>Comparison of ${c.runs.length} runs</h2>
    <table><thead><tr><th></th>${c.runs.map((r) => html`<th>${r.run_name}</th>`)}</tr></thead>
    <tbody>
    <tr><th colspan="${span}">metrics (best in green)</th></tr>
    ${c.metric_keys.map(metricRow)}
    <tr><th colspan="${span}">params (differing in amber)</th></tr>
    ${c.param_keys.map(paramRow)}
    </tbody></table>${chart(c.curves_svg, "learning curves of the compared runs")}</div>`;
};

const keyValueRows = (pairs, valueClass) =>
  pairs.map(([k, v]) => html`<tr><td>${k}</td><td class="${valueClass}">${v}</td></tr>`);

const runDetail = (d) => {
  const run = d.run;
  const registered = d.registered.map((v) => `${v.name} v${v.version}`).join(", ");
  const error = run.tags["mlops.error"];
  return html`<div class="card" id="run-detail"><div class="row spread">
      <h2>Run ${run.run_name}</h2>
      <span><button id="register" type="button"
        class="small">Register as a model version</button></span>
    </div>
    <p class="muted small">${run.run_id} · experiment ${d.experiment} · ${run.status} ·
      ${when(run.start_time)}${d.registered.length ? ` · registered as ${registered}` : ""}</p>
    ${error ? html`<p class="bad">${error}</p>` : ""}
    <div class="grid2">
      <div><h3>Metrics</h3><table><tbody>${keyValueRows(
        d.metrics.map(([k, v]) => [k, num(v)]),
        "num",
      )}</tbody></table></div>
      <div><h3>Params</h3><table><tbody>${keyValueRows(
        Object.entries(run.params),
        "wrap",
      )}</tbody></table></div>
    </div>
    <h3>Metric history</h3>${
      d.history_svg
        ? chart(d.history_svg, `learning curve of ${d.primary_metric}`)
        : d.stepped_svgs.length
          ? ""
          : html`<p class="muted">This run logged no metric history.</p>`
    }${d.stepped_svgs.map(([key, svg]) => chart(svg, `${key} by step`))}
    ${
      d.confusion_svg
        ? html`<h3>Confusion matrix</h3>
          ${chart(d.confusion_svg, "confusion matrix on the test split")}`
        : ""
    }</div>`;
};

export async function experiments(el, arg) {
  const runs = await call("runs");
  setHtml(
    el,
    html`<h1>Experiments</h1>
    <div class="card"><div class="row spread">
      <span class="muted">Select two or more runs to compare them side by side.</span>
      <button id="compare" type="button" disabled>Compare selected</button></div>
      <div id="runs"></div></div>
    <div id="detail"></div>`,
  );
  const selected = new Set();
  const current = html` class="selected" aria-current="true"`;
  dataTable($("#runs", el), {
    id: "runs-table",
    rows: runs,
    empty: "No runs yet: open Data and train a model.",
    rowAttrs: (r) => html`data-run="${r.run_id}"${arg && r.run_id.startsWith(arg) ? current : ""}`,
    columns: [
      {
        key: "name",
        label: "run",
        get: (r) => r.run_name,
        html: (r) =>
          html`<button class="ghost small open" type="button"
            data-run="${r.run_id}">${r.run_name}</button>`,
      },
      {
        key: "status",
        label: "status",
        get: (r) => r.status,
        html: (r) =>
          html`<span class="${r.status === "FINISHED" ? "ok" : "bad"}">${r.status}</span>`,
      },
      { key: "dataset", label: "dataset", get: (r) => r.params.dataset },
      { key: "model", label: "model", get: (r) => r.params.model },
      {
        key: "metric",
        label: "headline metric",
        num: true,
        get: (r) => r.headline?.[1],
        html: (r) =>
          r.headline
            ? html`<span class="muted small">${r.headline[0]}</span> ${num(r.headline[1])}`
            : "—",
      },
      {
        key: "started",
        label: "started",
        get: (r) => r.start_time,
        html: (r) => when(r.start_time),
      },
      {
        key: "pick",
        label: "compare",
        sort: false,
        get: () => "",
        html: (r) =>
          html`<input type="checkbox" class="pick" data-run="${r.run_id}"
            aria-label="compare ${r.run_name}" ${selected.has(r.run_id) ? "checked" : ""}>`,
      },
    ],
  });
  $("#runs", el).addEventListener("click", (e) => {
    const open = e.target.closest("button.open");
    if (open) location.hash = `#experiments/${open.dataset.run}`;
  });
  $("#runs", el).addEventListener("change", (e) => {
    if (!e.target.classList.contains("pick")) return;
    if (e.target.checked) selected.add(e.target.dataset.run);
    else selected.delete(e.target.dataset.run);
    $("#compare", el).disabled = selected.size < 2;
  });
  $("#compare", el).onclick = async () => {
    const c = await call("compare_runs", { runIds: [...selected] });
    setHtml($("#detail", el), comparison(c));
  };
  if (arg) {
    const d = await call("run_detail", { runId: arg });
    setHtml($("#detail", el), runDetail(d));
    $("#register", el).onclick = async () => {
      const v = await call("register", { runId: d.run.run_id, name: null });
      toastOk(`Registered ${v.name} v${v.version}. Promote it in Models.`);
    };
  }
}
