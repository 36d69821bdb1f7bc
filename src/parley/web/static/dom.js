// Building the page without innerHTML: every piece of text goes in as a text node, so a
// customer's "<b>hi</b>" shows as those characters and never becomes markup.

/** h("button", {class: "primary", onclick: f}, "Send") -> an element; children are nodes or text. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's children (text is inserted as text). */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

/** A short, polite message for the user (errors use role=alert so screen readers say them). */
export function toast(message, kind = "info", timeoutMs = 6000) {
  let region = document.getElementById("toasts");
  if (!region) {
    region = h("div", { id: "toasts", class: "toasts", "aria-live": "polite" });
    document.body.append(region);
  }
  const item = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" },
    h("span", {}, message),
    h("button", { class: "link", "aria-label": "Dismiss", onclick: () => item.remove() }, "×"));
  region.append(item);
  if (timeoutMs) setTimeout(() => item.remove(), timeoutMs);
  return item;
}

export function formatTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function formatDuration(ms) {
  if (ms === null || ms === undefined || ms < 0) return "–";
  const s = Math.floor(ms / 1000);
  const m = Math.floor(s / 60);
  const hours = Math.floor(m / 60);
  const two = (n) => String(n).padStart(2, "0");
  return hours ? `${hours}:${two(m % 60)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/** Run `fn` at most once per `ms`, on the trailing edge (bursts of events -> one refresh). */
export function debounce(fn, ms = 150) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
