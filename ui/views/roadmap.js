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
      ${
        next
          ? html`<a class="button" id="continue" href="#lesson/${next.id}">Continue: ${next.title}</a>`
          : html`<span class="ok">Every lesson done.</span>`
      }
    </div>
    <div class="months">${months.map(
      ({ m, lessons }) => html`<section class="card month" aria-labelledby="month-${m}">
        <h2 id="month-${m}">Month ${m}</h2><p class="muted small">${MONTHS[m]}</p>
        <ol class="lessons">${lessons.map(lessonItem)}</ol></section>`,
    )}</div>`,
  );
}
