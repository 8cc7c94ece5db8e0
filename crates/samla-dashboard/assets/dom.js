// Element helpers. Everything the page shows is built with createElement and
// textContent: text from events (summaries, site names) is never parsed as HTML, so it
// cannot inject markup, and the Content-Security-Policy forbids inline script anyway.

/**
 * h('p', {class: 'x', dataset: {value: 3}}, 'text', child) → <p class="x" data-value="3">
 * Props: class, text, dataset, hidden, on<event> (a listener), anything else an attribute.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') {
      for (const [name, v] of Object.entries(value)) {
        if (v !== null && v !== undefined) el.dataset[name] = String(v);
      }
    } else if (key === 'hidden') el.hidden = Boolean(value);
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** The element with this id (the page's skeleton is static, so it exists). */
export function $(id) {
  return document.getElementById(id);
}

/**
 * A horizontal stacked bar. `segments` are {value, cls, label}; widths are shares of
 * `total` (or of the segments' sum when that is larger: an over-full site shows a full
 * bar, its text says by how much). Widths are set through the CSSOM, which the
 * Content-Security-Policy allows (a style attribute would be refused).
 */
export function bar(segments, total, label) {
  const sum = segments.reduce((s, seg) => s + Math.max(0, seg.value), 0);
  const scale = Math.max(total, sum, 1);
  const el = h('div', { class: 'bar', role: 'img', 'aria-label': label });
  for (const seg of segments) {
    if (seg.value <= 0) continue;
    const part = h('span', { class: `bar-seg ${seg.cls}`, title: seg.label });
    part.style.width = `${(100 * seg.value) / scale}%`;
    el.append(part);
  }
  return el;
}
