// Models: registered versions and their aliases; promote, deploy, roll back.
import { $, html, join, num, setHtml, when } from "../lib/dom.js";
import { call, longWork } from "../lib/ipc.js";

const pill = (alias, text = alias) => html`<span class="pill ${alias}">${text}</span>`;

const rollback = (s) =>
  s.previous_version
    ? html`<button type="button" class="ghost small rollback"
        data-service="${s.name}">Roll back to v${s.previous_version}</button>`
    : "";

const service = (s) =>
  s
    ? html`<p class="small">Service <b>${s.name}</b> serves v${s.active_version ?? "—"}
        at <code>${s.endpoint}</code>
        ${rollback(s)}</p>`
    : html`<p class="muted small">Not served yet.</p>`;

const promote = (v) =>
  v.aliases.includes("champion")
    ? ""
    : html`<button type="button" class="small promote"
        data-version="${v.version}">Promote to champion</button>`;

const versionRow = (m, v) =>
  html`<tr><td>v${v.version}</td><td>${v.aliases.map((a) => pill(a))}</td>
    <td><a href="#experiments/${v.run_id}">${v.run_name}</a></td>
    <td class="small">${join(
      v.metrics.map(([k, x]) => `${k} ${num(x, 3)}`),
      " · ",
    )}</td>
    <td class="small">${when(v.creation_time)}</td>
    <td class="row">${promote(v)}${deployButton(m, v)}</td></tr>`;

// A version MLflow's client logged is in MLflow's format: the lab's server
// cannot serve it, so it gets no Deploy button but a plain note.
const deployButton = (m, v) =>
  !v.servable
    ? html`<span class="muted small" title="source ${v.source}">logged by MLflow's client:
        not servable by the lab's server</span>`
    : html`<button type="button" class="ghost small rollout" data-version="${v.version}">${
        m.service?.active_version === v.version ? "Redeploy" : "Deploy"
      }</button>
        <button type="button" class="ghost small export-k8s" data-version="${v.version}">Export
          to Kubernetes</button>`;

// The exported manifests: one block per file, with what it is for.
const exportCard = (x) =>
  html`<div class="card" id="k8s-export"><h2>${x.model} v${x.version} for Kubernetes</h2>
    <p class="muted small">Saved in <code>${x.out_dir}</code>, with a README on loading the image
      <code>${x.image}</code> into kind or minikube and applying these.</p>
    ${x.manifests.map(
      (m) => html`<h3>${m.file_name} <span class="muted small">${m.kind}</span></h3>
        <p class="small">${m.explanation}</p><pre class="yaml">${m.yaml}</pre>`,
    )}</div>`;

const modelCard = (m) =>
  html`<div class="card model" data-model="${m.name}"><div class="row spread">
      <h2>${m.name}</h2>
      <span>${Object.entries(m.aliases).map(([a, v]) => pill(a, `${a} → v${v}`))}</span></div>
    ${service(m.service)}
    <table><thead><tr><th>version</th><th>aliases</th><th>run</th><th>metrics</th><th>created</th>
      <th>actions</th></tr></thead><tbody>
    ${[...m.versions].reverse().map((v) => versionRow(m, v))}
    </tbody></table></div>`;

export async function models(el) {
  const list = await call("models");
  setHtml(
    el,
    html`<h1>Models</h1>
    <p class="muted">Registered versions and their aliases. Promoting a version makes it
      <b>champion</b>; when a service serves the model, the new champion is rolled out with no
      dropped request.</p>
    <ul class="events" id="model-events" aria-live="polite"></ul>
    <button id="cancel-model" class="danger" type="button" hidden>Cancel</button>
    ${
      list.length
        ? ""
        : html`<div class="card muted">No registered model yet: train a run, then register it
          from its detail in Experiments (the pipeline registers its own).</div>`
    }
    ${list.map(modelCard)}
    <div id="export"></div>`,
  );
  const work = (cmd, args, button) =>
    longWork(cmd, args, { button, cancel: $("#cancel-model", el), log: $("#model-events", el) })
      .then(() => models(el))
      .catch(() => {});
  el.onclick = (e) => {
    const b = e.target.closest("button");
    if (!b) return;
    const model = b.closest(".model")?.dataset.model;
    const version = b.dataset.version;
    if (b.classList.contains("promote")) {
      work("promote", { name: model, version: Number(version) }, b);
    }
    if (b.classList.contains("rollout")) {
      work("rollout", { model: `${model}:${version}`, service: null }, b);
    }
    if (b.classList.contains("rollback")) work("rollback", { service: b.dataset.service }, b);
    if (b.classList.contains("export-k8s")) {
      call("export_k8s", { model: `${model}:${version}` })
        .then((x) => {
          setHtml($("#export", el), exportCard(x));
          $("#k8s-export", el).scrollIntoView();
        })
        .catch(() => {});
    }
  };
}
