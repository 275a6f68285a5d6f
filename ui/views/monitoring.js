// Monitoring: traffic to a service, live charts, drift, alerts and retraining.
import { $, $$, chart, html, join, num, setHtml, when } from "../lib/dom.js";
import { call, every, invoke, longWork, settings, toast, toastOk } from "../lib/ipc.js";

const alertsTable = (alerts) =>
  alerts.length
    ? html`<table id="alerts"><thead><tr><th>when</th><th>metric</th><th class="num">value</th>
        <th class="num">threshold</th><th>message</th></tr></thead><tbody>
      ${alerts.map(
        (a) => html`<tr><td>${when(a.created_at)}</td><td>${a.metric}</td>
          <td class="num">${num(a.value, 3)}</td><td class="num">${num(a.threshold, 3)}</td>
          <td>${a.message}</td></tr>`,
      )}</tbody></table>`
    : html`<p class="muted">No alert has fired.</p>`;

const driftRow = (c) =>
  html`<tr><td>${c.column}</td><td>${c.test}</td>
    <td class="num">${num(c.score)}</td><td class="num">${num(c.threshold)}</td>
    <td class="${c.drifted ? "bad" : "ok"}">${c.drifted ? "drifted" : "stable"}</td>
    <td class="num">${c.reference_rows}</td><td class="num">${c.current_rows}</td></tr>`;

const histogram = (h) => chart(h.svg, `reference and current histograms of ${h.column}`);

const driftReport = (m) =>
  html`<div class="card"><h2>Drift report per feature</h2>
    <table id="drift-table"><thead><tr><th>feature</th><th>test</th><th class="num">score</th>
      <th class="num">threshold</th><th>drift</th><th class="num">reference rows</th>
      <th class="num">current rows</th></tr></thead><tbody>
    ${m.drift.columns.map(driftRow)}</tbody></table>
    <div class="charts">${m.histograms.map(histogram)}</div></div>`;

const liveQuality = (q) =>
  q?.quality_metric
    ? ` Live ${q.quality_metric} ${num(q.quality_value, 3)} on ${q.labelled} labelled rows.`
    : "";

const verdict = (m) => {
  const d = m.drift;
  if (!d) {
    return html`<p class="muted">A drift verdict needs at least ${m.min_drift_rows} predictions
      in the span.</p>`;
  }
  return html`<p>Dataset drift:
    <b class="${d.dataset_drift ? "bad" : "ok"}">${d.dataset_drift ? "yes" : "no"}</b>
    — ${d.drifted_columns} of ${d.columns.length} features drifted (share ${num(d.share, 2)}).
    ${liveQuality(m.current)}</p>`;
};

const rule = (r) => `${r.metric} ≥ ${num(r.threshold, 3)}${r.retrain ? " (retrains)" : ""}`;

const report = (m) =>
  html`<div class="charts" id="live-charts">
      ${chart(m.charts.requests, "requests per second")}
      ${chart(m.charts.latency, "latency p50 p95 p99")}
      ${chart(m.charts.errors, "error rate")}
      ${chart(m.charts.drift_share, "share of drifted features")}</div>
    <div class="card"><h2>Current span: ${when(m.current_start_ms)} → now · ${
      m.current ? `${m.current.requests} requests` : "no requests"
    }</h2>
      ${verdict(m)}
      ${chart(m.drift_scores_svg, "drift score per feature against its threshold")}
      <div class="grid2">
        ${chart(m.prediction_svg, "prediction distribution: reference vs current")}</div></div>
    <div class="card"><h2>Alerts</h2>${alertsTable(m.alerts)}
      <p class="muted small">Rules: ${join(m.rules.map(rule), " · ")}</p></div>
    ${m.drift ? driftReport(m) : ""}`;

export async function monitoring(el) {
  const [services, cfg] = await Promise.all([call("services"), settings()]);
  const t = cfg.traffic;
  const serviceOption = (s) =>
    html`<option value="${s.name}">${s.name} (v${s.active_version ?? "—"}, ${
      s.gateway_up ? "up" : "gateway down"
    })</option>`;
  const mixOption = (x) => {
    const selected = x.value === t.default_mix ? "selected" : "";
    return html`<option value="${x.value}" ${selected}>${x.label}</option>`;
  };
  setHtml(
    el,
    html`<h1>Monitoring</h1>
    ${
      services.length
        ? ""
        : html`<div class="card muted">No service yet: deploy a model from Models, or run the whole
          pipeline from Home.</div>`
    }
    <div class="card"><div class="row">
      <label for="service">Service</label>
      <select id="service">${services.map(serviceOption)}</select>
      <label for="mix">Traffic</label><select id="mix">${t.mixes.map(mixOption)}</select>
      <label for="rps">req/s</label>
      <input id="rps" type="number" min="1" max="${t.max_rps}" value="${t.default_rps}">
      <label for="requests">requests</label>
      <input id="requests" type="number" min="1" max="${t.max_requests}"
        value="${t.default_requests}">
      <button type="button" id="send-traffic">Send traffic</button>
      <button type="button" id="cancel-traffic" class="danger" hidden>Cancel</button>
      <button type="button" id="refresh" class="ghost">Refresh</button>
      <button type="button" id="retrain" class="ghost">Retrain now</button>
      <button type="button" id="cancel-retrain" class="danger" hidden>Cancel</button>
    </div><ul class="events" id="monitor-events" aria-live="polite"></ul></div>
    <div id="monitor"></div>`,
  );
  if (!services.length) {
    for (const b of $$("button", el)) b.disabled = true;
    return;
  }
  const svc = () => $("#service", el).value;
  let since = null;
  const paint = async () => {
    const m = await invoke("monitor", { service: svc(), sinceMs: since }).catch((e) => {
      toast(e);
      return null;
    });
    if (!m || !$("#monitor", el)) return;
    setHtml($("#monitor", el), report(m));
  };
  $("#service", el).onchange = () => {
    since = null;
    paint();
  };
  $("#refresh", el).onclick = paint;
  $("#send-traffic", el).onclick = async () => {
    $("#monitor-events", el).replaceChildren();
    since = Date.now();
    const live = every(2000, paint);
    const args = {
      service: svc(),
      mix: $("#mix", el).value,
      rps: Number($("#rps", el).value),
      requests: Number($("#requests", el).value),
      labels: true,
    };
    try {
      await longWork(
        "traffic",
        { args },
        {
          button: $("#send-traffic", el),
          cancel: $("#cancel-traffic", el),
          log: $("#monitor-events", el),
        },
      );
    } catch {
      // cancelled or failed: shown in the log and the toast
    }
    clearInterval(live);
    await paint();
  };
  $("#retrain", el).onclick = async () => {
    try {
      const r = await longWork(
        "retrain",
        { service: svc() },
        {
          button: $("#retrain", el),
          cancel: $("#cancel-retrain", el),
          log: $("#monitor-events", el),
        },
      );
      toastOk(r.decision);
    } catch {
      // shown in the log and the toast
    }
    await paint();
  };
  await paint();
}
