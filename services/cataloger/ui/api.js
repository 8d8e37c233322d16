// Calls to the cataloger's JSON API: same origin, relative URLs, the bearer
// token from sessionStorage, JSON bodies with their Content-Type.
const TOKEN_KEY = 'spotify-etl.token';

export class AuthError extends Error {}

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

async function problem(res) {
  let detail = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json();
    if (body && body.detail) detail = `${body.title || res.status}: ${body.detail}`;
  } catch (e) {
    // not problem+json: keep the status line
  }
  return detail;
}

// cache: 'no-store' for the API; the dashboard's own versioned files may use the HTTP cache.
// signal: an AbortSignal. Aborting a blocking query's request closes its connection,
// and the cataloger cancels the query then (so it no longer holds a query worker).
export async function call(method, url, { body, accept = 'application/json', cache = 'no-store', signal } = {}) {
  const headers = { Accept: accept };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  const init = { method, headers, credentials: 'omit', cache, signal };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  if (res.status === 401) throw new AuthError(await problem(res));
  if (!res.ok) throw new ApiError(res.status, await problem(res));
  return res;
}

export async function getJson(url, { cache, signal } = {}) {
  return (await call('GET', url, { cache, signal })).json();
}

// One page of a query: {columns, rows, next_token, stats, query_id}. maxAgeS lets the
// engine answer from a cached result up to that old (never older than the data).
export async function query(sql, { maxRows = 1000, maxAgeS, signal } = {}) {
  const body = { sql, max_rows: maxRows };
  if (maxAgeS !== undefined) body.max_age_s = maxAgeS;
  return (await call('POST', '../v1/query', { body, signal })).json();
}

// The result as CSV, following X-Next-Token for at most maxPages pages (of 1,000
// rows): {csv, complete}; complete is false when pages were left (the caller says so).
export async function queryCsv(sql, maxPages = 1000) {
  let res = await call('POST', '../v1/query', { body: { sql }, accept: 'text/csv' });
  let csv = await res.text();
  const id = res.headers.get('X-Query-Id');
  let next = res.headers.get('X-Next-Token');
  for (let page = 1; next && id && page < maxPages; ++page) {
    res = await call('GET', `../v1/query/${encodeURIComponent(id)}?next_token=${encodeURIComponent(next)}`,
                     { accept: 'text/csv' });
    const text = await res.text();
    csv += text.slice(text.indexOf('\n') + 1);  // later pages repeat the header line
    next = res.headers.get('X-Next-Token');
  }
  return { csv, complete: !next };
}
