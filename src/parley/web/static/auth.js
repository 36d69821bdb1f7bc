// Signing in to Parley from its own pages, as any browser app does: Parley's OAuth login page
// (/oauth/authorize) with the organisation's public browser client. Authorization code with
// PKCE where the browser can hash (secure contexts: https, localhost, 127.0.0.1); the implicit
// grant elsewhere. The token lives in sessionStorage, so each tab is its own session: one tab
// can be an agent while another plays the customer's phone as the admin.
const SESSION_KEY = "parley.session";
const LOGIN_KEY = "parley.login";
const CLIENT_KEY = "parley.clientId";

export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY)) || {};
  } catch {
    return {};
  }
}

function saveSession(s) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
}

export function clearSession() {
  sessionStorage.removeItem(SESSION_KEY);
}

function randomString(bytes = 32) {
  const data = crypto.getRandomValues(new Uint8Array(bytes));
  return base64url(data);
}

function base64url(bytes) {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function config() {
  const fromUrl = new URLSearchParams(location.search).get("client_id");
  if (fromUrl) sessionStorage.setItem(CLIENT_KEY, fromUrl);
  const wanted = fromUrl || sessionStorage.getItem(CLIENT_KEY);
  const url = new URL("/app/config.json", location.origin);
  if (wanted) url.searchParams.set("client_id", wanted);
  const resp = await fetch(url);
  const body = await resp.json();
  if (!resp.ok) throw new Error(body.message || `HTTP ${resp.status}`);
  return body;
}

/** Go to Parley's login page; come back to `returnTo` (this page by default). */
export async function signIn(returnTo = location.href) {
  const cfg = await config();
  const state = randomString(16);
  const login = { state, returnTo, clientId: cfg.clientId, redirectUri: cfg.redirectUri };
  const query = new URLSearchParams({
    client_id: cfg.clientId, redirect_uri: cfg.redirectUri, state,
  });
  if (crypto.subtle) {
    login.verifier = randomString(48);
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(login.verifier));
    query.set("response_type", "code");
    query.set("code_challenge", base64url(new Uint8Array(digest)));
    query.set("code_challenge_method", "S256");
  } else {
    query.set("response_type", "token");
  }
  sessionStorage.setItem(LOGIN_KEY, JSON.stringify(login));
  location.assign(`/oauth/authorize?${query}`);
  return new Promise(() => {}); // the page is going away
}

/** On /app/callback: take the code (or token) the login page sent back; returns where to go. */
export async function completeSignIn() {
  const login = JSON.parse(sessionStorage.getItem(LOGIN_KEY) || "null");
  const query = new URLSearchParams(location.search);
  const fragment = new URLSearchParams(location.hash.slice(1));
  const got = query.has("code") || query.has("error") ? query : fragment;
  history.replaceState(null, "", location.pathname); // the code/token leaves the address bar
  if (got.get("error")) {
    throw new Error(got.get("error_description") || got.get("error"));
  }
  if (!login || got.get("state") !== login.state) {
    throw new Error("This sign-in was not started from this tab (or it was already used). " +
      "Start again.");
  }
  sessionStorage.removeItem(LOGIN_KEY);
  if (got.has("access_token")) {
    saveSession({ token: got.get("access_token"),
      expiresAt: Date.now() + Number(got.get("expires_in") || 0) * 1000 });
    return login.returnTo;
  }
  const form = new URLSearchParams({
    grant_type: "authorization_code", code: got.get("code") || "", client_id: login.clientId,
    redirect_uri: login.redirectUri, code_verifier: login.verifier || "",
  });
  const resp = await fetch("/oauth/token", {
    method: "POST", body: form,
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  const body = await resp.json();
  if (!resp.ok) throw new Error(body.error_description || body.error || `HTTP ${resp.status}`);
  saveSession({ token: body.access_token, refreshToken: body.refresh_token,
    expiresAt: Date.now() + body.expires_in * 1000 });
  return login.returnTo;
}

/** The signed-in user (GET /api/v2/users/me), signing in first if this tab has no session. */
export async function requireUser() {
  const { token } = session();
  if (!token) return signIn();
  const resp = await fetch("/api/v2/users/me", { headers: { Authorization: `Bearer ${token}` } });
  if (resp.status === 401) {
    clearSession();
    return signIn();
  }
  const me = await resp.json();
  if (!resp.ok) throw new Error(me.message || `HTTP ${resp.status}`);
  return me;
}

let expiredShown = false;

/** The API said 401: the token expired or was revoked. Offer to sign in again. */
export function expired() {
  clearSession();
  if (expiredShown) return;
  expiredShown = true;
  const box = document.createElement("div");
  box.className = "session-ended";
  box.setAttribute("role", "alertdialog");
  box.setAttribute("aria-label", "Session ended");
  const text = document.createElement("p");
  text.textContent = "Your session has ended (signed out or expired).";
  const button = document.createElement("button");
  button.className = "primary";
  button.textContent = "Sign in again";
  button.addEventListener("click", () => signIn());
  box.append(text, button);
  document.body.append(box);
  button.focus();
}

/** Log out: revoke the token at the server (DELETE /api/v2/tokens/me), then forget it. */
export async function signOut() {
  const { token } = session();
  if (token) {
    try {
      await fetch("/api/v2/tokens/me", { method: "DELETE",
        headers: { Authorization: `Bearer ${token}` } });
    } catch { /* signed out locally all the same */ }
  }
  clearSession();
  location.assign("/app/?signedout=1");
}
