// The HTTP API, as the page uses it. Every request carries the session cookie (same
// origin); the page never sees a token after signing in.

/** An answer other than 2xx, with the API's error code when it sent one. */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

async function failure(response) {
  let code = null;
  let message = `HTTP ${response.status}`;
  let field = null;
  try {
    const body = await response.json();
    code = body?.error?.code ?? null;
    message = body?.error?.message ?? message;
    field = body?.error?.field ?? null;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  return new ApiError(response.status, code, message, field);
}

/** GET `path` with `params` (null and undefined left out); the JSON answer. */
export async function getJSON(path, params = {}) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') {
      url.searchParams.set(key, String(value));
    }
  }
  const response = await fetch(url, {
    credentials: 'same-origin',
    headers: { accept: 'application/json' },
    cache: 'no-store',
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

/** `/v1/incidents/<incident>/<what>`. */
export function incidentPath(incident, what) {
  return `/v1/incidents/${encodeURIComponent(incident)}/${what}`;
}

/**
 * Who is signed in: `{principal}` from `GET /v1/session`, or null when nobody is.
 * A server without the session routes (404/405) is asked a query instead: if the cookie
 * works there, the page runs with an unknown principal and learns the viewer from the
 * answers' `viewer` field.
 */
export async function whoami() {
  const response = await fetch('/v1/session', {
    credentials: 'same-origin',
    headers: { accept: 'application/json' },
    cache: 'no-store',
  });
  if (response.ok) return response.json();
  if (response.status === 401) return null;
  if (response.status === 404 || response.status === 405) {
    try {
      await getJSON('/v1/incidents');
      return { principal: null };
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }
  }
  throw await failure(response);
}

/** Signs in with a token; the server answers with the principal and sets the cookie. */
export async function login(token) {
  const response = await fetch('/v1/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ token }),
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

/** Signs out. Without the session routes, the cookie is dropped on this side. */
export async function logout() {
  try {
    const response = await fetch('/v1/session', {
      method: 'DELETE',
      credentials: 'same-origin',
    });
    if (response.ok) return;
  } catch {
    // Offline: at least forget the cookie here.
  }
  document.cookie = 'samla_session=; Max-Age=0; Path=/; SameSite=Strict';
}
