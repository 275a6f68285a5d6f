// DOM helpers and the only way this UI writes markup. `html` is a tagged
// template that escapes every interpolated value, unless the value is itself
// markup: another `html` result, an array of them (joined as is) or `raw()`
// for trusted markup such as the SVG charts rendered on the Rust side.
// `setHtml` accepts nothing else, so an unescaped string cannot reach
// `innerHTML`.

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escapeText = (s) => s.replace(/[&<>"']/g, (c) => ENTITIES[c]);

class Html {
  constructor(text) {
    this.text = text;
  }

  toString() {
    return this.text;
  }
}

// One interpolated value as markup: null, undefined and false show nothing.
const markup = (value) => {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(markup).join("");
  if (value == null || value === false) return "";
  return escapeText(String(value));
};

export const html = (strings, ...values) =>
  new Html(strings.reduce((out, s, i) => out + markup(values[i - 1]) + s));

// Trusted markup, kept as is: only for what the Rust side renders (SVG).
export const raw = (text) => new Html(String(text ?? ""));

// Items (strings or markup) joined by a separator, each escaped once.
export const join = (items, separator) => new Html(items.map(markup).join(escapeText(separator)));

export function setHtml(el, content) {
  if (!(content instanceof Html)) throw new TypeError("setHtml takes html`…`, never a string");
  el.innerHTML = content.text;
}

// A chart rendered by lab-charts, as an image with a text alternative.
export const chart = (svg, label) =>
  svg ? html`<figure class="chart" role="img" aria-label="${label}">${raw(svg)}</figure>` : "";

// ------------------------------------------------------------ formatting
export const num = (x, digits = 4) => {
  if (typeof x === "number") return Number.isInteger(x) ? String(x) : x.toFixed(digits);
  return x == null ? "—" : String(x);
};
export const when = (ms) => (ms ? new Date(ms).toLocaleString() : "—");
export const mb = (bytes) => (bytes == null ? "—" : `${(bytes / 1e6).toFixed(1)} MB`);
export const title = (s) => s[0].toUpperCase() + s.slice(1);

// Copy text to the clipboard: the Clipboard API, else a selection copy.
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    // not allowed here: copy through a selection instead
  }
  const area = document.createElement("textarea");
  area.value = text;
  document.body.append(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}
