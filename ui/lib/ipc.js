// The app's Tauri commands: calls that show their error in the toast, long
// work streamed over a Channel and cancellable by job id, periodic refresh
// that stops when the view changes, and the UI settings asked once.
import { $ } from "./dom.js";

const { invoke, Channel } = window.__TAURI__.core;

export { Channel, invoke };

// ---------------------------------------------------------------- toast
// One style per message: an error never keeps a success style, nor the reverse.
let toastTimer = null;
function showToast(text, ok) {
  const t = $("#toast");
  t.classList.toggle("ok-toast", ok);
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(
    () => {
      t.hidden = true;
    },
    ok ? 5000 : 10000,
  );
}

export const toast = (err) =>
  showToast(err?.message ? `${err.message}  [${err.code}]` : String(err), false);
export const toastOk = (text) => showToast(text, true);

export async function call(cmd, args) {
  try {
    return await invoke(cmd, args);
  } catch (e) {
    toast(e);
    throw e;
  }
}

// The UI's settings (defaults, limits, choices), asked once per window.
let settingsAnswer = null;
export function settings() {
  if (!settingsAnswer) {
    settingsAnswer = call("ui_settings").catch((e) => {
      settingsAnswer = null; // ask again next time
      throw e;
    });
  }
  return settingsAnswer;
}

// Docker's status, asked by the views that show it; each answer also
// updates the line at the bottom of the navigation.
export async function dockerStatus() {
  const d = await call("docker_status");
  const s = $("#docker");
  s.textContent = d.available ? "Docker: running" : "Docker: not available (see Deployments)";
  s.title = d.message;
  s.className = `small ${d.available ? "ok" : "warn"}`;
  return d;
}

// ------------------------------------------------------------ long work
let jobSeq = 0;
export const newJob = (kind) => `${kind}-${Date.now()}-${++jobSeq}`;

const ICONS = {
  "stage-started": "▶",
  "stage-progress": "…",
  "stage-finished": "✓",
  "stage-failed": "✗",
};
const EVENT_CLASS = { "stage-failed": "bad", "stage-finished": "ok" };

// One progress event as a line of `log`; a stage's progress replaces its
// previous progress line.
function logEvent(log, e) {
  const li = document.createElement("li");
  li.className = EVENT_CLASS[e.event] ?? "";
  const millis = e.millis != null ? ` (${e.millis} ms)` : "";
  li.textContent = `${ICONS[e.event] ?? "·"} ${e.stage}: ${e.message}${millis}`;
  const last = log.lastChild;
  if (e.event === "stage-progress" && last?.dataset.progress === e.stage) last.replaceWith(li);
  else log.append(li);
  if (e.event === "stage-progress") li.dataset.progress = e.stage;
  log.scrollTop = log.scrollHeight;
}

// Runs `cmd` as a cancellable job. `ui` = {button, cancel, log, onEvent}.
export async function longWork(cmd, args, ui) {
  const job = newJob(cmd);
  const onEvent = new Channel();
  onEvent.onmessage = (e) => {
    if (ui.log) logEvent(ui.log, e);
    ui.onEvent?.(e);
  };
  if (ui.button) ui.button.disabled = true;
  if (ui.cancel) {
    ui.cancel.hidden = false;
    ui.cancel.disabled = false;
    ui.cancel.onclick = async () => {
      ui.cancel.disabled = true;
      await invoke("cancel", { job });
    };
  }
  try {
    return await call(cmd, { ...args, job, onEvent });
  } finally {
    if (ui.button) ui.button.disabled = false;
    if (ui.cancel) ui.cancel.hidden = true;
  }
}

// --------------------------------------------------------------- timers
// Periodic refresh that stops when the view changes.
let timers = [];
export function every(ms, f) {
  const id = setInterval(f, ms);
  timers.push(id);
  return id;
}
export function stopTimers() {
  for (const id of timers) clearInterval(id);
  timers = [];
}
