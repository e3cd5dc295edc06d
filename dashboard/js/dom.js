// Building the page from data: text always goes in as textContent, so a caller's comment can never
// become markup.

/** el('p', { class: 'x', 'data-metric': 'count' }, 'text', childNode, ...) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function fmtAverage(value) {
  return value === null || value === undefined ? '—' : Number(value).toFixed(2);
}

export function fmtPercent(value) {
  return value === null || value === undefined ? '—' : `${Number(value).toFixed(1)} %`;
}

export function fmtSigned(value) {
  if (value === null || value === undefined) return '—';
  const fixed = Number(value).toFixed(1);
  return value > 0 ? `+${fixed}` : fixed;
}

export function fmtCount(value) {
  return value === null || value === undefined ? '—' : Number(value).toLocaleString('en-US');
}

/** A UTC ISO timestamp as a short local date and time of the viewer. */
export function fmtTime(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return date.toLocaleString('en-GB', { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit' });
}

/** A headline number: a label and a value; data-metric names it for tests and styling. */
export function kpi(label, value, metric, note) {
  return el('div', { class: 'kpi' }, el('dt', { text: label }), el('dd', { 'data-metric': metric, text: value }), note ? el('dd', { class: 'note', text: note }) : null);
}

export function kpis(...items) {
  return el('dl', { class: 'kpis' }, ...items);
}

export function card(title, ...content) {
  const id = `h-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${Math.random().toString(36).slice(2, 7)}`;
  return el('section', { class: 'card', 'aria-labelledby': id }, el('h3', { id, text: title }), ...content);
}

/** A table with a caption and column headers; rows are arrays of cells (strings or nodes). */
export function table(caption, headers, rows, attrs = {}) {
  return el(
    'div',
    { class: 'table-wrap' },
    el(
      'table',
      attrs,
      el('caption', { text: caption }),
      el('thead', {}, el('tr', {}, headers.map((header) => el('th', { scope: 'col', text: header })))),
      el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map((cell, index) => (index === 0 ? el('th', { scope: 'row' }, cell) : el('td', {}, cell)))))),
    ),
  );
}

export function link(href, text) {
  return el('a', { href, text });
}

export function routeHref(kind, id) {
  return `#/${kind}/${encodeURIComponent(id)}`;
}
