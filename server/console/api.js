// The console's calls to its JSON endpoints (same origin, session cookie); every request
// that changes something repeats the session's anti-forgery token in X-CSRF-Token.

const BASE = "/v1/admin/console";
let csrfToken = null;

/** An error answer of the API: `status`, stable `code`, `message`. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(BASE + path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, data?.error?.code ?? "error", data?.error?.message ?? response.statusText);
  }
  return data;
}

/** The current session, or an ApiError 401 when signed out. */
export async function session() {
  const s = await call("GET", "/session");
  csrfToken = s.csrfToken;
  return s;
}

/** Exchanges a server API key for a session cookie. */
export async function signIn(apiKey) {
  const s = await call("POST", "/session", { apiKey });
  csrfToken = s.csrfToken;
  return s;
}

/** Ends the session. */
export async function signOut() {
  await call("DELETE", "/session");
  csrfToken = null;
}

/** A page's data: `GET /v1/admin/console/{page}?{params}`. */
export function page(name, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== ""));
  const text = query.toString();
  return call("GET", `/${name}${text ? `?${text}` : ""}`);
}
