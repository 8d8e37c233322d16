// The dashboard page: asks for the token when the API wants one, then loads every
// panel (saved views through POST /v1/query, the catalog's tables and partitions).
import { AuthError, getJson, setToken, token } from './api.js';
import { installConsole, runConsole } from './console.js';
import { renderFilesPerDay, renderView } from './panels.js';
import { renderTables } from './tables.js';

const $ = (id) => document.getElementById(id);
let views = null;
let generation = 0;

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
    ? `The token was not accepted (${error.message}). Check it against the cataloger's ETL_API_TOKEN and enter it again.`
    : 'This cataloger needs its API token (ETL_API_TOKEN).');
  return true;
}

function openInConsole(sql, run = false) {
  $('sql').value = sql;
  $('console').scrollIntoView();
  if (run) runConsole(onAuth);
}

async function load() {
  const mine = ++generation;
  const started = performance.now();
  const period = $('period').value;
  delete document.body.dataset.loaded;
  delete document.body.dataset.loadedAt;
  setStatus('Loading…');
  $('trends-panels').replaceChildren();
  $('health-panels').replaceChildren();
  let tables;
  try {
    const [v, t] = await Promise.all([
      views ? Promise.resolve(views) : getJson('views.json').then((d) => d.views),
      renderTables($('table-list'), $('table-detail'), openInConsole),
    ]);
    views = v;
    tables = t;
  } catch (e) {
    if (!onAuth(e)) setStatus(`Cannot load the dashboard: ${e.message}`, true);
    return;
  }
  if (mine !== generation) return;
  $('auth').hidden = true;
  $('main').classList.remove('locked');
  $('signout').hidden = !token();
  document.body.dataset.auth = 'ok';
  const jobs = views.map((view) => renderView($(`${view.panel}-panels`), view, period, openInConsole));
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
