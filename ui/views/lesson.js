// Lesson: the lesson rendered from Markdown on the Rust side (`raw` is
// used only for that HTML, built by lab-lessons' renderer), its steps as
// buttons that run the real engine action with live progress, the
// checkpoint with one line per predicate, hints one level at a time, the
// quiz, and the DevOps concept it maps to.
import { $, $$, copyText, html, raw, setHtml, when } from "../lib/dom.js";
import { Channel, call, invoke, longWork, newJob, toastOk } from "../lib/ipc.js";
import { STATUS } from "./roadmap.js";

const statusPill = (status) => {
  const s = STATUS[status] ?? STATUS["not-started"];
  return html`<span class="pill ${status}" id="lesson-status">${s.icon} ${s.label}</span>`;
};

const conceptCard = (p) =>
  html`<div class="card concept ${p.status === "passed" ? "earned" : ""}" id="concept">
    <h2>The DevOps concept</h2><dl class="kv">
    <dt>You know</dt><dd>${raw(p.concept.devops)}</dd>
    <dt>In MLOps</dt><dd>${raw(p.concept.mlops)}</dd>
    <dt>Why it matters</dt><dd>${raw(p.concept.why)}</dd></dl></div>`;

const stepCard = (s) =>
  html`<li class="step" data-step="${s.id}"><div class="row spread">
    <strong>${s.title}</strong>
    <span class="row"><button type="button" class="run-step">Run</button>
      <button type="button" class="small ghost copy-cli" title="Copy the command">Copy command</button></span></div>
    <code class="cli">${s.cli}</code>
    <p class="small step-last ${s.last ? "ok" : "muted"}">${s.last ?? "Not run yet."}</p>
    <ul class="events" aria-live="polite"></ul></li>`;

const verdictList = (c) =>
  c
    ? html`<p class="${c.passed ? "ok" : "bad"}" id="check-summary">${
        c.passed ? "✓ Checkpoint passed" : "✗ Not yet"
      } <span class="muted small">(${when(c.at)})</span></p>
      <ul class="verdicts">${c.verdicts.map(
        (v) => html`<li class="${v.passed ? "ok" : "bad"}" data-check="${v.name}">
          ${v.passed ? "✓" : "✗"} <strong>${v.name}</strong>: ${v.message}${
            v.passed && v.evidence.length
              ? html` <span class="muted small">evidence: ${v.evidence.map((e) => html`<code>${e}</code> `)}</span>`
              : ""
          }</li>`,
      )}</ul>`
    : html`<p class="muted" id="check-summary">Not checked yet.</p>`;

const exerciseResults = (r, planned) =>
  r
    ? html`<p class="${r.passed ? "ok" : "bad"}" id="exercise-summary">${
        r.passed ? "✓ Your code passed" : "✗ Not yet: change what the first ✗ says"
      } <span class="muted small">(${r.millis} ms)</span></p>
      <ul class="verdicts exercise-checks">${r.checks.map(
        (c) => html`<li class="${c.passed ? "ok" : "bad"}" data-exercise-check="${c.name}">
          ${c.passed ? "✓" : "✗"} <strong>${c.name}</strong>: <code>${c.ran}</code>
          <div class="small">expected: ${c.expected}</div>
          <div class="small">got: ${c.got}</div>
          ${c.fix ? html`<div class="small fix"><strong>change:</strong> ${c.fix}</div>` : ""}</li>`,
      )}${r.not_run.map(
        (n) =>
          html`<li class="muted" data-exercise-check="${n}">· <strong>${n}</strong>: not run (it needs the checks before it)</li>`,
      )}</ul>${(r.figures ?? []).map(([k, v]) => html`<p class="small">${k}: ${v}</p>`)}`
    : html`<p class="muted" id="exercise-summary">Not checked yet. Checks, in order: ${planned.join(", ")}.</p>`;

const exerciseCard = (x) =>
  x
    ? html`<div class="card" id="exercise"><h2>Exercise: your own Python</h2>
      <p>${x.title}</p>
      <p class="small">Your files: <code id="exercise-folder">${x.folder}</code>
        <button type="button" class="small ghost" id="copy-folder">Copy path</button></p>
      <div id="python-status" class="small muted">Looking at your Python…</div>
      <ul class="events" id="python-log" aria-live="polite"></ul>
      <div class="row"><button type="button" id="exercise-start">${
        x.started ? "Write missing starter files" : "Write the starter files"
      }</button>
        <button type="button" id="exercise-check">Check my code</button>
        <button type="button" class="ghost" id="exercise-cancel" hidden>Cancel</button></div>
      <div id="exercise-results" aria-live="polite">${exerciseResults(x.last, x.checks)}</div></div>`
    : "";

const pythonStatus = (d) =>
  d.ready
    ? html`<span class="ok">✓ Python ${d.version} with the pinned packages: ready.</span>`
    : html`<span class="bad">✗ ${d.problems.join(" ")}</span>
      <div><button type="button" class="small" id="python-setup">Set up Python</button></div>`;

const quizItem = (q) =>
  html`<li class="question" data-question="${q.id}"><p>${raw(q.question)}</p>${
    q.options.length
      ? html`<div class="options">${q.options.map(
          (o, i) =>
            html`<label><input type="radio" name="q-${q.id}" value="${i + 1}" ${
              q.answer === String(i + 1) || q.answer === o ? "checked" : ""
            }> ${o}</label>`,
        )}</div>`
      : html`<input type="text" inputmode="decimal" name="q-${q.id}" value="${q.answer ?? ""}"
          aria-label="Your answer">`
  }<div class="row"><button type="button" class="small answer">Answer</button>
    <span class="quiz-result ${q.correct ? "ok" : q.answer ? "bad" : "muted"}">${
      q.correct ? "✓ correct" : q.answer ? "✗ not quite: try again" : ""
    }</span></div></li>`;

function page(p) {
  const nav = html`<div class="row spread lesson-nav">
    ${p.prev ? html`<a href="#lesson/${p.prev}">← Previous</a>` : html`<span></span>`}
    <a href="#roadmap">Roadmap</a>
    ${p.next ? html`<a href="#lesson/${p.next}" id="next-lesson">Next →</a>` : html`<span></span>`}</div>`;
  return html`${nav}
    <div class="row spread"><h1>${p.title}</h1>${statusPill(p.status)}</div>
    <p class="muted">Month ${p.month} · about ${p.minutes} minutes${
      p.started_at ? html` · started ${when(p.started_at)}` : ""
    }</p>
    <div class="card"><h2>Objectives</h2><ul>${p.objectives.map((o) => html`<li>${raw(o)}</li>`)}</ul>
      ${
        p.status === "not-started"
          ? html`<p class="muted small">Only what you do after starting counts for the checkpoint.</p>
            <button type="button" id="start-lesson">Start the lesson</button>`
          : ""
      }</div>
    <div class="lesson-grid">
      <article class="card lesson-body" id="lesson-body">${raw(p.html)}</article>
      <aside class="lesson-side">
        <div class="card" id="steps"><h2>Steps</h2>
          <ol class="steps">${p.steps.map(stepCard)}</ol></div>
        ${exerciseCard(p.exercise)}
        <div class="card" id="checkpoint"><h2>Checkpoint</h2>
          <p class="muted small">Checks: ${p.checks.join(", ")}</p>
          <div id="verdicts">${verdictList(p.last_check)}</div>
          <div class="row"><button type="button" id="check">Check</button>
            <button type="button" class="ghost" id="skip" title="Run the lesson's solution and mark it skipped, not passed">Skip (run the solution)</button>
            ${
              p.status === "not-started"
                ? ""
                : html`<button type="button" class="ghost" id="reset-lesson" title="Forget this lesson's progress; your runs, models and services stay">Reset lesson</button>`
            }</div>
          <ul class="events" id="skip-events" aria-live="polite"></ul></div>
        <div class="card" id="hints"><h2>Hints</h2>
          <ol class="hint-list">${p.hints.map((h) => html`<li>${raw(h)}</li>`)}</ol>
          ${
            p.hints.length < p.hints_total
              ? html`<button type="button" class="ghost" id="hint">Show hint ${p.hints.length + 1} of ${p.hints_total}</button>`
              : html`<p class="muted small">No more hints.</p>`
          }</div>
        ${
          p.quiz.length
            ? html`<div class="card" id="quiz"><h2>Quiz</h2><ol class="quiz">${p.quiz.map(quizItem)}</ol></div>`
            : ""
        }
        ${conceptCard(p)}
      </aside>
    </div>
    ${nav}`;
}

export async function lesson(el, id) {
  if (!id) {
    location.hash = "#roadmap";
    return;
  }
  const p = await call("lesson", { id });
  setHtml(el, page(p));
  wire(el, p);
}

// Repaint in place after an action, keeping the reader where they were.
async function refresh(el, id) {
  const p = await call("lesson", { id });
  const y = window.scrollY;
  setHtml(el, page(p));
  wire(el, p);
  window.scrollTo(0, y);
  return p;
}

async function showPython(el) {
  const box = $("#python-status", el);
  if (!box) return;
  try {
    const d = await call("python_status", { job: newJob("python-status") });
    setHtml(box, pythonStatus(d));
  } catch (e) {
    box.textContent = e?.message ?? String(e);
    return;
  }
  $("#python-setup", el)?.addEventListener("click", async (ev) => {
    const log = $("#python-log", el);
    log.replaceChildren();
    const onLine = new Channel();
    onLine.onmessage = (line) => {
      const li = document.createElement("li");
      li.textContent = line;
      log.append(li);
      log.scrollTop = log.scrollHeight;
    };
    ev.currentTarget.disabled = true;
    try {
      await call("python_setup", { job: "python-setup", onLine });
      toastOk("Your Python is ready: the exercises run offline from now on.");
    } catch {
      // shown in the toast
    }
    await showPython(el);
  });
}

function wireExercise(el, p) {
  const x = p.exercise;
  if (!x) return;
  showPython(el);
  $("#copy-folder", el).onclick = async () => {
    await copyText(x.folder);
    toastOk("Copied the folder's path.");
  };
  $("#exercise-start", el).onclick = async () => {
    const r = await call("exercise_start", { job: newJob("exercise-start"), id: x.id });
    toastOk(
      r.written.length
        ? `Wrote ${r.written.join(", ")} in ${r.folder}: open README.md there.`
        : `Your files are there already (${r.kept.join(", ")}): nothing was overwritten.`,
    );
  };
  $("#exercise-check", el).onclick = async () => {
    const b = $("#exercise-check", el);
    const cancel = $("#exercise-cancel", el);
    const job = `exercise-check-${x.id}`;
    b.disabled = true;
    cancel.hidden = false;
    cancel.onclick = () => invoke("cancel", { job });
    setHtml(
      $("#exercise-results", el),
      html`<p class="muted" id="exercise-running">Running your code…</p>`,
    );
    try {
      const r = await call("exercise_check", { job, id: x.id });
      setHtml($("#exercise-results", el), exerciseResults(r, x.checks));
    } catch (e) {
      setHtml($("#exercise-results", el), html`<p class="bad">${e?.message ?? String(e)}</p>`);
    } finally {
      b.disabled = false;
      cancel.hidden = true;
    }
  };
}

function wire(el, p) {
  wireExercise(el, p);
  $("#start-lesson", el)?.addEventListener("click", async () => {
    await call("lesson_start", { id: p.id });
    await refresh(el, p.id);
    toastOk("Started: what you make from now on counts for this lesson's checkpoint.");
  });
  for (const li of $$(".step", el)) {
    const step = li.dataset.step;
    const cli = p.steps.find((s) => s.id === step).cli;
    $(".copy-cli", li).onclick = async () => {
      await copyText(cli);
      toastOk("Copied the command.");
    };
    $(".run-step", li).onclick = async () => {
      $(".events", li).replaceChildren();
      const last = $(".step-last", li);
      last.className = "small step-last muted";
      last.textContent = "Running…";
      try {
        const r = await longWork(
          "lesson_step",
          { id: p.id, step },
          { button: $(".run-step", li), log: $(".events", li) },
        );
        last.className = "small step-last ok";
        last.textContent = r.summary;
        const s = $("#lesson-status", el);
        if (s && p.status === "not-started") setHtml(s, statusPill("in-progress"));
      } catch (e) {
        last.className = "small step-last bad";
        last.textContent = e?.message ?? String(e);
      }
    };
  }
  $("#check", el).onclick = async () => {
    const b = $("#check", el);
    b.disabled = true;
    setHtml($("#verdicts", el), html`<p class="muted" id="check-running">Checking…</p>`);
    try {
      await call("lesson_check", { id: p.id, job: `check-${p.id}` });
    } catch {
      // shown in the toast; the page shows the last recorded attempt
    }
    await refresh(el, p.id);
  };
  $("#skip", el).onclick = async () => {
    try {
      await longWork(
        "lesson_skip",
        { id: p.id },
        { button: $("#skip", el), log: $("#skip-events", el) },
      );
      await refresh(el, p.id);
      toastOk("Skipped: the solution ran; the lesson counts as skipped, not passed.");
    } catch {
      // shown in the log and the toast
    }
  };
  // Two clicks: the first arms the button, the second resets.
  $("#reset-lesson", el)?.addEventListener("click", async (ev) => {
    const b = ev.currentTarget;
    if (!b.dataset.armed) {
      b.dataset.armed = "1";
      b.textContent = "Click again to forget this lesson's progress";
      return;
    }
    await call("lesson_reset", { id: p.id });
    await refresh(el, p.id);
    toastOk("Reset: the lesson starts afresh; your runs, models and services are still there.");
  });
  $("#hint", el)?.addEventListener("click", async () => {
    await call("lesson_hint", { id: p.id });
    await refresh(el, p.id);
  });
  for (const li of $$(".question", el)) {
    $(".answer", li).onclick = async () => {
      const picked = $("input:checked", li) ?? $('input[type="text"]', li);
      const answer = picked?.value?.trim();
      if (!answer) {
        setHtml(
          $(".quiz-result", li),
          html`<span class="bad">Pick or type an answer first.</span>`,
        );
        return;
      }
      try {
        const r = await call("lesson_answer", { id: p.id, question: li.dataset.question, answer });
        const out = $(".quiz-result", li);
        out.className = `quiz-result ${r.correct ? "ok" : "bad"}`;
        out.textContent = r.correct ? `✓ correct: ${r.expected}` : "✗ not quite: try again";
      } catch {
        // shown in the toast (e.g. a question about a check not passed yet)
      }
    };
  }
}
