// Roadmap, the landing view: the four months of the course as columns of
// lessons, each with the learner's status, overall progress, and Continue
// to the lesson where the learner stopped.
import { html, setHtml } from "../lib/dom.js";
import { call } from "../lib/ipc.js";

const MONTHS = {
  1: "Python, data and ML fundamentals",
  2: "Training classic models and a prediction API",
  3: "Docker, Kubernetes, experiment tracking",
  4: "Kubeflow, monitoring, production patterns",
};

export const STATUS = {
  "not-started": { icon: "○", label: "not started" },
  "in-progress": { icon: "◐", label: "in progress" },
  passed: { icon: "●", label: "passed" },
  skipped: { icon: "⤼", label: "skipped" },
};

const lessonItem = (l) => {
  const s = STATUS[l.status] ?? STATUS["not-started"];
  return html`<li class="lesson-item ${l.status}" data-lesson="${l.id}">
    <a href="#lesson/${l.id}"><span class="status-icon" aria-hidden="true">${s.icon}</span>
    <span class="lesson-title">${l.title}</span></a>
    <span class="muted small">${l.minutes} min · <span class="status">${s.label}</span></span></li>`;
};

const reportCard = ([r, files]) => {
  const broken = r.lessons.flatMap((l) =>
    l.evidence.filter((e) => !e.holds).map((e) => ({ lesson: l.id, ...e })),
  );
  return html`<div class="card" id="report"><h2>Progress report saved</h2>
    <p>${r.passed} of ${r.total} passed, ${r.skipped} skipped; quiz ${r.quiz_correct} of
      ${r.quiz_total} right; about ${Math.round(r.minutes_spent)} minutes in lessons.</p>
    <p class="small">HTML: <code id="report-html">${files.html}</code><br>JSON: <code>${files.json}</code></p>
    ${
      broken.length
        ? html`<p class="bad">No longer holds:</p><ul>${broken.map(
            (b) => html`<li><code>${b.lesson}</code>: <code>${b.id}</code> (${b.note})</li>`,
          )}</ul>`
        : html`<p class="ok">Every recorded piece of evidence still exists.</p>`
    }</div>`;
};

export async function roadmap(el) {
  const r = await call("roadmap");
  const months = [1, 2, 3, 4].map((m) => ({ m, lessons: r.lessons.filter((l) => l.month === m) }));
  const done = r.passed + r.skipped;
  const next = r.lessons.find((l) => l.id === r.continue_with);
  setHtml(
    el,
    html`<h1>Roadmap</h1>
    <p class="muted">From DevOps to MLOps in four months, on your own machine: every lesson runs
      the real step, and its checkpoint reads what you made from the lab's own state.</p>
    <div class="card row spread" id="progress">
      <div><strong id="progress-count">${r.passed} of ${r.total} passed</strong>${
        r.skipped ? html`, ${r.skipped} skipped` : ""
      }${r.in_progress ? html`, ${r.in_progress} in progress` : ""}
        <progress max="${r.total}" value="${done}" aria-label="Lessons done"></progress></div>
      <span class="row">
        <button type="button" class="ghost" id="save-report"
          title="Your record as a self-contained HTML page and JSON, each checkpoint's evidence re-checked">Save my progress report</button>
        ${
          next
            ? html`<a class="button" id="continue" href="#lesson/${next.id}">Continue: ${next.title}</a>`
            : html`<span class="ok">Every lesson done.</span>`
        }</span>
    </div>
    <div id="report-result"></div>
    <div class="months">${months.map(
      ({ m, lessons }) => html`<section class="card month" aria-labelledby="month-${m}">
        <h2 id="month-${m}">Month ${m}</h2><p class="muted small">${MONTHS[m]}</p>
        <ol class="lessons">${lessons.map(lessonItem)}</ol></section>`,
    )}</div>`,
  );
  const save = el.querySelector("#save-report");
  save.onclick = async () => {
    save.disabled = true;
    try {
      setHtml(el.querySelector("#report-result"), reportCard(await call("lesson_report")));
    } finally {
      save.disabled = false;
    }
  };
}
