// What every page shares: sign-in, the top bar (pages, who is signed in, live indicator,
// sign out) and one place that reports errors to the user.
import { requireUser, signOut } from "./auth.js";
import { h, toast } from "./dom.js";

export const PAGES = [
  ["agent", "Agent desktop"],
  ["supervisor", "Supervisor"],
  ["admin", "Admin"],
  ["handset", "Handset"],
];

/** Sign in if needed, draw the top bar, and return the user (GET /api/v2/users/me). */
export async function startPage(current, title) {
  let me;
  try {
    me = await requireUser();
  } catch (e) {
    document.body.append(h("p", { class: "problem", role: "alert" }, `Cannot sign in: ${e.message}`));
    throw e;
  }
  const bar = document.getElementById("topbar");
  const nav = h("nav", { "aria-label": "Pages" }, PAGES.map(([page, label]) =>
    h("a", { href: `/app/${page}`, "aria-current": page === current ? "page" : false }, label)));
  bar.replaceChildren(
    h("h1", {}, title), nav, h("span", { class: "spacer" }),
    h("span", { class: "live", id: "live", "data-state": "connecting", role: "status" }, "connecting…"),
    h("span", { class: "who", id: "who" }, `${me.name} · ${(me.roles || []).join(", ")}`),
    h("button", { id: "signout", onclick: () => signOut() }, "Sign out"));
  window.addEventListener("unhandledrejection", (e) => report(e.reason));
  return me;
}

export function setLive(state) {
  const el = document.getElementById("live");
  if (!el) return;
  el.dataset.state = state;
  el.textContent = { live: "live", connecting: "connecting…", reconnecting: "reconnecting…",
    offline: "offline" }[state] || state;
}

/** Show an error (an ApiError carries the server's Genesys `message`). */
export function report(error) {
  const message = error && error.message ? error.message : String(error);
  toast(message, "error", 10000);
}

/** Run an async action from a button: disable it meanwhile, report failures. */
export async function act(button, fn) {
  if (button) button.disabled = true;
  try {
    return await fn();
  } catch (e) {
    report(e);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}
