// Deployments: what runs where, live logs, and a prediction to try by hand.
import { $, html, mb, setHtml } from "../lib/dom.js";
import { call, dockerStatus, every, invoke, toast, toastOk } from "../lib/ipc.js";
import { dataTable } from "../lib/table.js";

const button = (d, cls, text) =>
  html`<button type="button" class="${cls}" data-id="${d.deployment_id}">${text}</button>`;

const actions = (d) =>
  html`<span class="row">${button(d, "small logs", "Logs")}${
    d.status === "running"
      ? html`${button(d, "small try", "Try")}${button(d, "ghost small stop", "Stop")}`
      : ""
  }</span>`;

const healthClass = (d) => {
  if (d.ready) return "ok";
  return d.status === "running" ? "bad" : "muted";
};

const COLUMNS = [
  { key: "name", label: "deployment", get: (d) => d.name },
  { key: "model", label: "model", get: (d) => `${d.model_name} v${d.model_version}` },
  { key: "runtime", label: "runtime", get: (d) => d.runtime },
  {
    key: "status",
    label: "status",
    get: (d) => d.status,
    html: (d) => html`<span class="${d.status === "running" ? "ok" : "muted"}">${d.status}</span>`,
  },
  {
    key: "health",
    label: "health",
    get: (d) => d.health,
    html: (d) => html`<span class="${healthClass(d)}">${d.health}</span>`,
  },
  { key: "image", label: "image", get: (d) => d.image_tag ?? "local process" },
  {
    key: "size",
    label: "size",
    num: true,
    get: (d) => d.image_size_bytes,
    html: (d) => mb(d.image_size_bytes),
  },
  {
    key: "endpoint",
    label: "endpoint",
    get: (d) => d.endpoint,
    html: (d) => html`<code>${d.endpoint}</code>`,
  },
  {
    key: "ready",
    label: "start→ready",
    num: true,
    get: (d) => d.start_to_ready_ms,
    html: (d) => `${d.start_to_ready_ms} ms`,
  },
  { key: "actions", label: "", sort: false, get: () => "", html: actions },
];

const trueLabel = (s) =>
  s.label != null ? html`; its true label is <b>${JSON.stringify(s.label)}</b>` : "";

const sample = (s) =>
  html`<p class="muted small">Row ${s.row} of ${s.dataset} (${s.rows} rows)${trueLabel(s)}.</p>
    <div class="row"><label for="path">POST</label><input id="path" value="${s.path}" size="28">
      <label for="ctype">Content-Type</label>
      <input id="ctype" value="${s.content_type}" size="18"></div>
    <label for="body">Body</label><textarea id="body" class="code">${s.body}</textarea>
    <div class="row"><button type="button" id="send">Send</button></div><div id="exchange"></div>`;

const exchange = (x) =>
  html`<h3>Request</h3><pre class="log" id="raw-request">${x.request}</pre>
    <h3>Response <span class="${x.status === 200 ? "ok" : "bad"}">${x.status}</span>
      <span class="muted small">${x.latency_ms.toFixed(1)} ms</span></h3>
    <pre class="log" id="raw-response">${x.response}</pre>
    <div class="row spread"><h3>Same request with curl</h3>
      <button type="button" class="ghost small" id="copy-curl">Copy</button></div>
    <pre class="log" id="curl">${x.curl}</pre>`;

export async function deployments(el) {
  const [docker, list] = await Promise.all([dockerStatus(), call("deployments", { all: true })]);
  setHtml(
    el,
    html`<h1>Deployments</h1>
    <div class="card ${docker.available ? "" : "banner"}">
      <span class="${docker.available ? "ok" : "warn"}">${docker.message}</span></div>
    <div class="card" id="deployments"></div>
    <div class="grid2"><div class="card" id="try"><h2>Try a prediction</h2>
      <p class="muted">Pick a running deployment above.</p></div>
    <div class="card" id="logs"><h2>Live logs</h2>
      <p class="muted">Pick a deployment above.</p></div></div>`,
  );
  dataTable($("#deployments", el), {
    id: "deployments-table",
    rows: list,
    empty: "Nothing deployed yet: deploy a model from Models, or run the whole pipeline from Home.",
    rowAttrs: (d) => html`data-deployment="${d.deployment_id}"`,
    columns: COLUMNS,
  });
  const byId = (id) => list.find((d) => d.deployment_id === id);
  let logTimer = null;
  const showLogs = (d) => {
    if (logTimer) clearInterval(logTimer);
    setHtml(
      $("#logs", el),
      html`<div class="row spread"><h2>Live logs: ${d.name}</h2>
        <label><input type="checkbox" id="follow" checked> follow</label></div>
      <pre class="log tall" id="log-text" tabindex="0" aria-label="log lines"></pre>`,
    );
    const pull = async () => {
      if (!$("#follow", el)?.checked) return;
      try {
        const text = await invoke("deployment_logs", { deployment: d.deployment_id, tail: 200 });
        const pre = $("#log-text", el);
        if (!pre) return;
        pre.textContent = text || "(no log lines yet)";
        pre.scrollTop = pre.scrollHeight;
      } catch (e) {
        const pre = $("#log-text", el);
        if (pre) pre.textContent = `${e.message} [${e.code}]`;
      }
    };
    pull();
    logTimer = every(2000, pull);
  };
  const showTry = async (d) => {
    setHtml(
      $("#try", el),
      html`<h2>Try a prediction: ${d.name}</h2>
      <div class="row"><label for="row">Dataset row</label>
        <input id="row" type="number" min="0" value="0">
        <button type="button" id="build">Build request</button></div>
      <div id="try-body"></div>`,
    );
    const build = async () => {
      const row = Number($("#row", el).value) || 0;
      const s = await call("sample_request", { deployment: d.deployment_id, row });
      setHtml($("#try-body", el), sample(s));
      $("#send", el).onclick = async () => {
        const x = await call("send_request", {
          deployment: d.deployment_id,
          path: $("#path", el).value,
          contentType: $("#ctype", el).value,
          body: $("#body", el).value,
        });
        setHtml($("#exchange", el), exchange(x));
        $("#copy-curl", el).onclick = () =>
          navigator.clipboard?.writeText(x.curl).then(
            () => toastOk("curl copied"),
            () => toast("copy failed: select the text instead"),
          );
      };
    };
    $("#build", el).onclick = build;
    await build();
  };
  $("#deployments", el).addEventListener("click", async (e) => {
    const b = e.target.closest("button");
    if (!b?.dataset.id) return;
    const d = byId(b.dataset.id);
    if (b.classList.contains("logs")) showLogs(d);
    if (b.classList.contains("try")) showTry(d);
    if (b.classList.contains("stop")) {
      b.disabled = true;
      await call("stop_deployment", { deployment: d.deployment_id }).catch(() => {});
      deployments(el);
    }
  });
}
