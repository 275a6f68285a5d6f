// MLOps Lab UI: plain ES modules over the app's Tauri commands, no build
// step. Every number shown comes from a command; charts arrive as SVG
// rendered on the Rust side (lab-charts). This module routes hash URLs
// (`#view` or `#view/arg`) to one function per view (ui/views/) and owns
// the theme toggle.
import { $, $$, html, setHtml } from "./lib/dom.js";
import { invoke, stopTimers } from "./lib/ipc.js";
import { data } from "./views/data.js";
import { deployments } from "./views/deployments.js";
import { experiments } from "./views/experiments.js";
import { home } from "./views/home.js";
import { lesson } from "./views/lesson.js";
import { models } from "./views/models.js";
import { monitoring } from "./views/monitoring.js";
import { roadmap } from "./views/roadmap.js";

const views = { roadmap, lesson, home, data, experiments, models, deployments, monitoring };

// -------------------------------------------------------------- routing
// Each navigation renders into a fresh element, swapped in when complete,
// so a slow earlier view can never overwrite a later one. `body[data-ready]`
// names the view on screen once it is complete (the WebDriver test waits
// for it).
let routeSeq = 0;
async function route() {
  stopTimers();
  const seq = ++routeSeq;
  const [name, arg] = (location.hash || "#roadmap").slice(1).split("/");
  const view = Object.hasOwn(views, name) ? name : "roadmap";
  // A lesson belongs to the roadmap in the navigation.
  const navView = view === "lesson" ? "roadmap" : view;
  for (const a of $$("nav a")) {
    if (a.dataset.view === navView) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.body.dataset.ready = "";
  const el = document.createElement("div");
  el.className = "view";
  try {
    await views[view](el, arg && decodeURIComponent(arg));
  } catch (e) {
    if (!el.hasChildNodes()) {
      setHtml(el, html`<div class="card banner error">${e?.message ?? e}</div>`);
    }
  }
  if (seq !== routeSeq) return;
  const main = $("#view");
  main.dataset.view = view;
  main.replaceChildren(el);
  document.body.dataset.ready = view;
}

// ---------------------------------------------------------------- theme
const THEMES = ["system", "light", "dark"];
function applyTheme(t) {
  if (t === "system") document.documentElement.removeAttribute("data-theme");
  else document.documentElement.dataset.theme = t;
  $("#theme").textContent = `Theme: ${t}`;
}
let theme = localStorage.getItem("theme") || "system";
applyTheme(theme);
$("#theme").addEventListener("click", () => {
  theme = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
  localStorage.setItem("theme", theme);
  applyTheme(theme);
});

window.addEventListener("hashchange", route);
// After the first view is on screen (two frames later), tell the shell:
// `cargo xtask bench app` times cold start to this moment.
route().then(() =>
  requestAnimationFrame(() => requestAnimationFrame(() => invoke("first_paint").catch(() => {}))),
);
