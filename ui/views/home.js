// Home: the pipeline strip (one card per stage) and "run the whole pipeline".
import { $, $$, copyText, html, mb, num, setHtml, title } from "../lib/dom.js";
import { call, dockerStatus, longWork, settings, toastOk } from "../lib/ipc.js";

// Which view a stage's card opens.
const LINK = {
  data: "data",
  train: "experiments",
  validate: "models",
  package: "deployments",
  deploy: "deployments",
  monitor: "monitoring",
  retrain: "monitoring",
};

const arrow = html`<span class="arrow" aria-hidden="true">→</span>`;

const stageCards = (stages) =>
  stages.map(
    (s, i) => html`<a class="stage ${s.health}" href="#${LINK[s.stage]}" data-stage="${s.stage}">
      <span class="name">${title(s.stage)}${i < stages.length - 1 ? arrow : ""}</span>
      <span class="headline">${s.headline}</span><span class="detail">${s.detail}</span>
      <progress max="1" hidden></progress></a>`,
  );

const summary = (r) =>
  html`<div class="card" id="pipeline-summary">
    <h3>Pipeline finished in ${r.total_seconds.toFixed(1)} s</h3><dl class="kv">
    <dt>Endpoint</dt><dd><code>${r.endpoint}</code> (${r.runtime})</dd>
    <dt>Model</dt><dd>${r.model} v${r.version}; serving v${r.serving_version} now</dd>
    <dt>Image</dt><dd>${r.image ?? "local process"} ${
      r.image_size_bytes ? `(${mb(r.image_size_bytes)})` : ""
    }</dd>
    <dt>Traffic</dt>
    <dd>${r.traffic.sent} sent, ${r.traffic.ok} ok, p99 ${num(r.traffic.p99_ms, 1)} ms</dd>
    <dt>Drift</dt><dd>${
      r.dataset_drift
        ? html`<span class="warn">drift</span> in ${r.drifted_features.join(", ")}`
        : "no dataset drift"
    }</dd>
    <dt>Alerts</dt><dd>${r.alerts.join("; ") || "none"}</dd>
    <dt>Retrain</dt><dd>${r.retrain ? r.retrain.decision : "not needed"}</dd></dl></div>`;

// MLflow's client can log to this lab: where to point it.
const trackingCard = (t) =>
  html`<div class="card" id="tracking"><h2>MLflow tracking server</h2>${
    t.uri
      ? html`<p class="muted small">MLflow's own Python client (MLflow ${t.mlflow_version}) logs
          runs and models into this lab, beside the lab's own.</p>
        <div class="row"><code id="tracking-uri">MLFLOW_TRACKING_URI=${t.uri}</code>
          <button id="copy-tracking-uri" type="button" class="small">Copy</button></div>`
      : html`<p class="bad">Not running: ${t.error}</p>`
  }</div>`;

// A stage's card follows the pipeline's progress events.
const KIND_TITLE = { parameter: "Parameters", task: "Tasks", output: "Outputs" };

const kfpCard = (x) =>
  html`<div class="card" id="kfp-export"><h2>${x.pipeline}</h2>
    <p class="muted small">Saved as <code>${x.out_file}</code>. Steps image
      <code>${x.image}</code>: ${
        x.image_built ? `built (${mb(x.image_built.size_bytes)})` : x.image_note
      }.</p>
    ${Object.entries(KIND_TITLE).map(
      ([kind, t]) =>
        html`<h3>${t}</h3><dl class="small">${x.parts
          .filter((p) => p.kind === kind)
          .map((p) => html`<dt><code>${p.name}</code></dt><dd>${p.explanation}</dd>`)}</dl>`,
    )}
    <h3>Run it with KFP's local runner</h3><pre>${x.run_with}</pre>
    <h3>The pipeline (KFP v2 IR YAML)</h3><pre class="yaml">${x.yaml}</pre></div>`;

const CARD_STATE = {
  "stage-started": "running",
  "stage-finished": "done",
  "stage-failed": "failed",
};
function followStage(el, e) {
  const c = $(`.stage[data-stage="${e.stage}"]`, el);
  if (!c) return;
  const bar = $("progress", c);
  $(".detail", c).textContent = e.message;
  if (CARD_STATE[e.event]) c.className = `stage ${CARD_STATE[e.event]}`;
  if (e.event === "stage-progress" && e.fraction != null) {
    bar.hidden = false;
    bar.value = e.fraction;
  }
  if (e.event === "stage-finished" || e.event === "stage-failed") bar.hidden = true;
}

export async function home(el) {
  const [ov, datasets, docker, cfg, tracking] = await Promise.all([
    call("overview"),
    call("datasets"),
    dockerStatus(),
    settings(),
    call("tracking_server"),
  ]);
  const scenarios = datasets.flatMap((d) => d.scenarios.map((s) => ({ s, d: d.title })));
  const option = ({ s, d }) =>
    html`<option value="${s}" ${s === cfg.default_scenario ? "selected" : ""}>${s} (${d})</option>`;
  const banner = docker.available
    ? ""
    : html`<div class="card banner" id="docker-banner">${docker.message}</div>`;
  setHtml(
    el,
    html`<h1>Pipeline</h1>
    ${banner}
    <p class="muted">Data → Train → Validate → Package → Deploy → Monitor → Retrain,
      on your machine. Each card shows the stage's latest result; open it for details.</p>
    <div class="stages" id="stages" aria-label="Pipeline stages"></div>
    <div class="card">
      <h2>Run the whole pipeline</h2>
      <p class="muted small">Trains on a scenario's reference slice, builds a FROM scratch image,
        deploys it behind a stable endpoint, sends drifted traffic with late labels, evaluates drift
        and alerts, and retrains when an alert asks for it.</p>
      <div class="row">
        <label for="scenario">Scenario</label>
        <select id="scenario">${scenarios.map(option)}</select>
        <button id="run-pipeline" type="button">Run the whole pipeline</button>
        <button id="cancel-pipeline" class="danger" type="button" hidden>Cancel</button>
      </div>
      <ul class="events" id="pipeline-events" aria-live="polite"></ul>
      <div id="pipeline-result"></div>
    </div>
    <div class="card">
      <h2>Export as a Kubeflow pipeline</h2>
      <p class="muted small">The same loop for Kubeflow Pipelines: Data → Train → Validate →
        Register → Package as a KFP v2 YAML for the scenario above, each step a container running
        MLOps Lab's own steps in a FROM scratch image built here.</p>
      <button id="export-kfp" type="button">Export as a Kubeflow pipeline</button>
      <ul class="events" id="kfp-events" aria-live="polite"></ul>
      <div id="kfp-result"></div>
    </div>
    ${trackingCard(tracking)}
    <p class="muted small">Lab home: <code>${ov.lab_home}</code></p>`,
  );
  const copy = $("#copy-tracking-uri", el);
  if (copy) {
    copy.onclick = async () => {
      await copyText(`export MLFLOW_TRACKING_URI=${tracking.uri}`);
      toastOk("Copied: paste it in the terminal where your Python runs.");
    };
  }
  $("#export-kfp", el).onclick = async () => {
    $("#kfp-events", el).replaceChildren();
    try {
      const x = await longWork(
        "export_kfp",
        { scenario: $("#scenario", el).value },
        { button: $("#export-kfp", el), log: $("#kfp-events", el) },
      );
      setHtml($("#kfp-result", el), kfpCard(x));
      $("#kfp-export", el).scrollIntoView();
    } catch {
      // shown in the log and the toast
    }
  };
  const paint = (stages) => setHtml($("#stages", el), html`${stageCards(stages)}`);
  paint(ov.stages);
  $("#run-pipeline", el).onclick = async () => {
    $("#pipeline-events", el).replaceChildren();
    $("#pipeline-result", el).replaceChildren();
    for (const s of $$(".stage", el)) s.className = "stage";
    try {
      const r = await longWork(
        "run_pipeline",
        { scenario: $("#scenario", el).value },
        {
          button: $("#run-pipeline", el),
          cancel: $("#cancel-pipeline", el),
          log: $("#pipeline-events", el),
          onEvent: (e) => followStage(el, e),
        },
      );
      setHtml($("#pipeline-result", el), summary(r));
    } catch {
      // shown in the log and the toast
    }
    paint((await call("overview")).stages);
  };
}
