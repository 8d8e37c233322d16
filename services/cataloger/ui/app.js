// The dashboard page: asks for the token when the API wants one, then loads every
// panel (saved views through POST /v1/query, the catalog's tables and partitions).
import { AuthError, getJson, setToken, token } from './api.js';
import { installConsole, runConsole } from './console.js';
import { renderFilesPerDay, renderView } from './panels.js';
import { renderTables } from './tables.js';

const $ = (id) => document.getElementById(id);
let views = null;
let generation = 0;
let panelQueries = null;  // AbortController of the latest load's panel queries

function setStatus(text, isError = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', isError);
}

function askToken(message) {
  $('auth').hidden = false;
  $('auth-message').textContent = message;
  $('main').classList.add('locked');
  $('auth-token').value = '';
  $('auth-token').focus();
  document.body.dataset.auth = 'required';
  setStatus('Waiting for the API token.');
}

// Any API call that got 401 ends up here.
function onAuth(error) {
  if (!(error instanceof AuthError)) return false;
  askToken(token()
    ? `The token was not accepted (${error.message}). Check it against the cataloger's ETL_READ_TOKEN or ETL_API_TOKEN and enter it again.`
    : 'This cataloger needs its API token (ETL_API_TOKEN), or its read-only token (ETL_READ_TOKEN), which is all this page needs.');
  return true;
}

function openInConsole(sql, run = false) {
  $('sql').value = sql;
  $('console').scrollIntoView();
  if (run) runConsole(onAuth);
}

// views.json sits beside the modules (v/<version>/views.json): the HTTP cache keeps
// it for as long as the dashboard's files stay the same.
async function loadViews() {
  const doc = await getJson(new URL('views.json', import.meta.url).href, { cache: 'default' });
  return doc.views;
}

async function load() {
  const mine = ++generation;
  // The panels of an earlier load are replaced: their queries still out are
  // aborted, and the cataloger cancels them instead of running them for nobody.
  if (panelQueries) panelQueries.abort();
  panelQueries = new AbortController();
  const { signal } = panelQueries;
  const started = performance.now();
  const period = $('period').value;
  delete document.body.dataset.loaded;
  delete document.body.dataset.loadedAt;
  setStatus('Loading…');
  $('trends-panels').replaceChildren();
  $('health-panels').replaceChildren();
  // The table list and the saved views' queries go out together: a panel does
  // not wait for the tables (only "files per day" needs them).
  const tablesJob = renderTables($('table-list'), $('table-detail'), openInConsole);
  tablesJob.catch(() => {});  // handled below
  let jobs = [];
  let tables;
  try {
    views = views || await loadViews();
    if (mine !== generation) return;
    jobs = views.map((view) => renderView($(`${view.panel}-panels`), view, period, openInConsole, signal));
    jobs.forEach((j) => j.catch(() => {}));  // settled below
    tables = await tablesJob;
  } catch (e) {
    if (!onAuth(e)) setStatus(`Cannot load the dashboard: ${e.message}`, true);
    return;
  }
  if (mine !== generation) return;
  $('auth').hidden = true;
  $('main').classList.remove('locked');
  $('signout').hidden = !token();
  document.body.dataset.auth = 'ok';
  jobs.push(renderFilesPerDay($('health-panels'), tables, period));
  const results = await Promise.allSettled(jobs);
  if (mine !== generation) return;
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.some((r) => onAuth(r.reason))) return;
  const ms = Math.round(performance.now() - started);
  setStatus(`${jobs.length} panels in ${ms} ms${failed.length ? ` (${failed.length} failed)` : ''}`, failed.length > 0);
  document.body.dataset.loaded = String(ms);
  document.body.dataset.loadedAt = String(Math.round(performance.now()));  // since navigation start
}

$('auth-form').addEventListener('submit', (e) => {
  e.preventDefault();
  setToken($('auth-token').value.trim());
  load();
});
$('signout').addEventListener('click', () => {
  setToken('');
  window.location.reload();
});
$('refresh').addEventListener('click', load);
$('period').addEventListener('change', load);
installConsole(onAuth);
load();
