// The Platform API from the browser: bearer token on every call, and Genesys error bodies
// turned into errors whose message is the server's own `message` (what the user should read).
import { session, expired } from "./auth.js";

export class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** api("/api/v2/users/me"), api(path, {method: "POST", body: {...}, query: {...}}) */
export async function api(path, { method = "GET", body, query, raw = false, contentType } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  }
  const headers = { Accept: "application/json" };
  const token = session().token;
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = contentType || "application/json";
    payload = typeof body === "string" ? body : JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(url, { method, headers, body: payload });
  } catch (e) {
    throw new ApiError(`Parley did not answer (${e.message}); check your connection`, 0, null);
  }
  if (resp.status === 401) {
    expired();
  }
  if (!resp.ok) {
    let data = null;
    try { data = await resp.json(); } catch { /* not JSON */ }
    const message = (data && (data.message || data.error_description)) ||
      `${method} ${url.pathname} failed: HTTP ${resp.status}`;
    throw new ApiError(message, resp.status, data);
  }
  if (raw) return resp;
  if (resp.status === 204 || resp.status === 202) return null;
  const text = await resp.text();
  return text ? JSON.parse(text) : null;
}

/** Every page of a Genesys listing (entities of pageSize 100 until the last page). */
export async function all(path, query = {}) {
  const out = [];
  for (let page = 1; page < 100; page++) {
    const data = await api(path, { query: { ...query, pageSize: 100, pageNumber: page } });
    out.push(...(data.entities || []));
    if (!data.pageCount || page >= data.pageCount || !(data.entities || []).length) break;
  }
  return out;
}
