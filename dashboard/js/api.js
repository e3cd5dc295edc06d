// The /cc/csat API as the dashboard uses it: the key goes in the X-API-Key header only (never a URL,
// never a log), kept in sessionStorage so it dies with the tab. Answers are remembered with their
// ETag: a refresh asks If-None-Match and a 304 means nothing changed.

const KEY_ITEM = 'cc-csat-api-key';

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

export function apiKey() {
  return sessionStorage.getItem(KEY_ITEM);
}

export function setApiKey(key) {
  sessionStorage.setItem(KEY_ITEM, key);
}

export function forgetApiKey() {
  sessionStorage.removeItem(KEY_ITEM);
  remembered.clear();
}

/** path + query string, with empty values left out. */
export function apiUrl(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') query.set(name, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

// url -> { etag, text, body }: the last answer of each URL, for If-None-Match (or, for an answer
// without an ETag, to tell whether it changed).
const remembered = new Map();
const REMEMBERED_MAX = 200;

async function send(url, extraHeaders = {}) {
  const key = apiKey();
  if (!key) throw new ApiError(401, 'not signed in');
  let response;
  try {
    // no-store: the browser's own cache must not answer for us; our If-None-Match decides.
    response = await fetch(url, { headers: { 'X-API-Key': key, ...extraHeaders }, cache: 'no-store', credentials: 'omit' });
  } catch {
    throw new ApiError(0, 'the engine cannot be reached (network error); retrying at the next refresh');
  }
  if (response.ok || response.status === 304) return response;
  let detail = `HTTP ${response.status}`;
  try {
    const body = await response.json();
    if (body && typeof body.detail === 'string') detail = body.detail;
  } catch {
    // not JSON: keep the status line
  }
  throw new ApiError(response.status, detail);
}

/**
 * GET a JSON answer. `{ body, changed }`: changed is false when the server said 304 to our ETag
 * (the body is then the one remembered).
 */
export async function getJson(path, params) {
  const url = apiUrl(path, params);
  const before = remembered.get(url);
  // A fetch() that sets If-None-Match itself also gets `Cache-Control: no-cache` from the browser,
  // and Express then ignores If-None-Match (always 200): max-age=0 asks for the same revalidation.
  const response = await send(url, before?.etag ? { 'If-None-Match': before.etag, 'Cache-Control': 'max-age=0' } : {});
  if (response.status === 304 && before) return { body: before.body, changed: false };
  const text = await response.text();
  if (before && !before.etag && before.text === text) return { body: before.body, changed: false };
  const body = JSON.parse(text);
  remembered.delete(url);
  if (remembered.size >= REMEMBERED_MAX) remembered.delete(remembered.keys().next().value);
  remembered.set(url, { etag: response.headers.get('ETag'), text, body });
  return { body, changed: true };
}

/** GET raw bytes (a recording, an export) as a Blob, with the key header. */
export async function getBlob(path, params) {
  const response = await send(apiUrl(path, params));
  const disposition = response.headers.get('Content-Disposition') ?? '';
  const filename = /filename="?([^";]+)"?/.exec(disposition)?.[1];
  return { blob: await response.blob(), filename };
}
