// Dashboard panels: one per saved view (views/*.sql through POST /v1/query), runs
// and their outcome (the extractor's run records, GET /v1/pipeline/runs, with a
// view's rows per run), and "files per day", from the catalog's partitions
// (GET /v1/tables/{name}/partitions).
import { getJson, query } from './api.js';
import { drawChart, fillTable, seriesOf } from './charts.js';

// Panels may reuse a result this old; the engine never serves one older than the data.
const PANEL_MAX_AGE_S = 60;
// Runs listed in the pipeline-health section (newest first).
export const RUNS_SHOWN = 20;
const OUTCOME = { succeeded: 'ok', partial: 'partial', failed: 'failed', running: 'running', queued: 'queued' };

// The run records' rows: run, outcome, when, sources, objects, items, and the view's rows per run_id.
export function runRows(runs, page) {
  const rowsOf = new Map(page.rows.map((r) => [r[0], r[1]]));
  return runs.map((r) => [
    r.run_id,
    OUTCOME[r.status] || r.status,
    r.finished_at || r.started_at || r.created_at || '',
    r.sources_failed ? `${r.sources} (${r.sources_failed} failed)` : String(r.sources),
    r.objects,
    r.items,
    rowsOf.has(r.run_id) ? Number(rowsOf.get(r.run_id)) : '—',
  ]);
}

async function fetchRuns(sql, signal) {
  const [runs, page] = await Promise.all([getJson(`../v1/pipeline/runs?limit=${RUNS_SHOWN}`, { signal }),
                                          query(sql, { maxAgeS: PANEL_MAX_AGE_S, signal })]);
  return { runs: runs.runs, page };
}

function runsTable(runs, page) {
  const table = el('table', 'grid-table runs');
  fillTable(table, ['run', 'outcome', 'when', 'sources', 'objects', 'items', 'song rows'], runRows(runs, page));
  table.querySelectorAll('tbody tr').forEach((tr, i) => { tr.cells[1].className = `outcome ${runs[i].status}`; });
  return table;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// The first day of the period as a SQL date literal ('0000-01-01' for all data).
export function sinceLiteral(period) {
  if (period === 'all') return "'0000-01-01'";
  const days = Number(period);
  const d = new Date(Date.now() - days * 86400000);
  return `'${d.toISOString().slice(0, 10)}'`;
}

export function viewSql(view, period) {
  return view.sql.replaceAll('{{since}}', sinceLiteral(period));
}

function panelShell(container, id, title, description, wide = false) {
  const panel = el('article', wide ? 'panel wide' : 'panel');
  panel.dataset.view = id;
  panel.dataset.state = 'loading';
  const head = el('header');
  head.appendChild(el('h3', '', title));
  const open = el('button', 'link', 'SQL');
  open.type = 'button';
  open.title = 'Open this query in the SQL console';
  head.appendChild(open);
  panel.appendChild(head);
  if (description) panel.appendChild(el('p', 'desc', description));
  const body = el('div', 'panel-body');
  panel.appendChild(body);
  container.appendChild(panel);
  return { panel, body, open };
}

function ageText(ms) {
  if (!Number.isFinite(ms)) return '';
  const minutes = Math.max(0, Math.round(ms / 60000));
  if (minutes < 120) return `${minutes} min`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h`;
  return `${Math.round(minutes / 1440)} days`;
}

// Appends "age" (now minus the named timestamp column) to a table view's rows.
function withAge(page, column) {
  const i = column ? page.columns.findIndex((c) => c.name === column) : -1;
  if (i < 0) return page;
  const now = Date.now();
  return {
    columns: page.columns.concat([{ name: 'age', type: 'computed' }]),
    rows: page.rows.map((r) => r.concat([r[i] === null ? '' : ageText(now - Date.parse(r[i]))])),
  };
}

function showError(panel, body, error) {
  panel.dataset.state = 'error';
  body.replaceChildren(el('p', 'error', error.message));
}

// Renders one view; returns the promise of its query (rejected on 401 so the caller asks for a token).
// signal aborts the query (a newer load replaced this panel).
export async function renderView(container, view, period, openInConsole, signal) {
  const sql = viewSql(view, period);
  const wide = view.chart === 'table' || view.chart === 'runs';
  const { panel, body, open } = panelShell(container, view.id, view.title, view.description, wide);
  panel.dataset.sql = sql;
  open.addEventListener('click', () => openInConsole(sql));
  let page;
  let runs;
  try {
    if (view.chart === 'runs') ({ runs, page } = await fetchRuns(sql, signal));
    else page = await query(sql, { maxAgeS: PANEL_MAX_AGE_S, signal });
  } catch (e) {
    showError(panel, body, e);
    throw e;
  }
  if (runs) {
    if (runs.length) body.replaceChildren(runsTable(runs, page));
    else body.replaceChildren(el('p', 'empty', 'No run records yet (runs/ in the raw store).'));
    panel.dataset.state = runs.length ? 'ok' : 'empty';
    return;
  }
  if (!page.rows.length) {
    panel.dataset.state = 'empty';
    body.replaceChildren(el('p', 'empty', 'No rows in this period.'));
    return;
  }
  if (view.chart === 'table') {
    const table = el('table', 'grid-table');
    const { columns, rows } = withAge(page, view.age);
    fillTable(table, columns, rows);
    body.replaceChildren(table);
  } else {
    const canvas = el('canvas');
    canvas.dataset.view = view.id;
    const box = el('div', 'chart-box');
    box.appendChild(canvas);
    body.replaceChildren(box);
    try {
      drawChart(canvas, view.chart, seriesOf(page, view.x, view.y));
    } catch (e) {
      showError(panel, body, e);
      return;
    }
  }
  panel.dataset.state = 'ok';
}

// Files per table and day, from the catalog (works for any query engine).
export async function renderFilesPerDay(container, tables, period) {
  const { panel, body, open } = panelShell(container, 'files_per_day', 'Files per table and day',
                                           'Data files the catalog lists per dt partition (GET /v1/tables/{name}/partitions)');
  open.hidden = true;
  const since = sinceLiteral(period).slice(1, -1);
  const counts = new Map();  // dt -> {table: files}
  try {
    const all = await Promise.all(
      tables.map((t) => getJson(`../v1/tables/${encodeURIComponent(t.name)}/partitions`)));
    tables.forEach((t, i) => {
      for (const p of all[i].partitions) {
        const dt = p.values[0];
        if (dt < since) continue;
        if (!counts.has(dt)) counts.set(dt, {});
        counts.get(dt)[t.name] = p.files.length;
      }
    });
  } catch (e) {
    showError(panel, body, e);
    throw e;
  }
  const labels = [...counts.keys()].sort();
  if (!labels.length) {
    panel.dataset.state = 'empty';
    body.replaceChildren(el('p', 'empty', 'No partitions in this period.'));
    return;
  }
  const canvas = el('canvas');
  canvas.dataset.view = 'files_per_day';
  const box = el('div', 'chart-box');
  box.appendChild(canvas);
  body.replaceChildren(box);
  const series = tables.map((t) => ({ name: t.name, values: labels.map((dt) => counts.get(dt)[t.name] || 0) }));
  drawChart(canvas, 'bar', { labels, series });
  panel.dataset.state = 'ok';
}
