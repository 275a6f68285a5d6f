// A sortable, filterable table. `columns`: [{key, label, num, sort, get, html}]
// where `get(row)` gives the value sorted and filtered on, and `html(row)`,
// if any, the cell's markup (an `html` result). `rowAttrs(row)` gives the
// attributes of a row, as an `html` result.
import { $, $$, html, num, setHtml } from "./dom.js";

const compare = (x, y) =>
  typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));

const header = (c) =>
  html`<th scope="col" class="${c.num ? "num" : ""}" data-key="${c.key}">${
    c.sort === false ? c.label : html`<button class="sort" type="button">${c.label}</button>`
  }</th>`;

export function dataTable(el, options) {
  const { id, columns, rows, filter = true, rowAttrs = () => "", empty = "Nothing yet." } = options;
  let sortKey = null;
  let dir = 1;
  let query = "";
  setHtml(
    el,
    html`${
      filter
        ? html`<div class="row"><label for="${id}-filter">Filter</label><input id="${id}-filter"
            type="search" placeholder="type to filter rows"></div>`
        : ""
    }
    <table id="${id}"><thead><tr>${columns.map(header)}</tr></thead><tbody></tbody></table>
    <p class="muted" hidden>${empty}</p>`,
  );
  const body = $("tbody", el);
  const cell = (c, r) =>
    html`<td class="${c.num ? "num" : ""}">${c.html ? c.html(r) : num(c.get(r))}</td>`;
  const render = () => {
    const matches = (r) =>
      columns.some((c) =>
        String(c.get(r) ?? "")
          .toLowerCase()
          .includes(query),
      );
    let shown = query ? rows.filter(matches) : rows;
    if (sortKey) {
      const c = columns.find((c) => c.key === sortKey);
      shown = [...shown].sort((a, b) => {
        const x = c.get(a);
        const y = c.get(b);
        if (x == null) return 1;
        if (y == null) return -1;
        return compare(x, y) * dir;
      });
    }
    setHtml(
      body,
      html`${shown.map((r) => html`<tr ${rowAttrs(r)}>${columns.map((c) => cell(c, r))}</tr>`)}`,
    );
    $("p.muted", el).hidden = shown.length > 0;
  };
  for (const b of $$("th button.sort", el)) {
    b.addEventListener("click", () => {
      const th = b.parentElement;
      const key = th.dataset.key;
      dir = sortKey === key ? -dir : 1;
      sortKey = key;
      for (const h of $$("th", el)) h.removeAttribute("aria-sort");
      th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
      render();
    });
  }
  if (filter) {
    $(`#${id}-filter`, el).addEventListener("input", (e) => {
      query = e.target.value.trim().toLowerCase();
      render();
    });
  }
  render();
  return { render };
}
