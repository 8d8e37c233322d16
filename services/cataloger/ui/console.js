// The SQL console: run a query, show the first page in a grid, chart it, download it as CSV.
// Stop (or a new Run) aborts the query's request; the cataloger then cancels the query.
import { query, queryCsv } from './api.js';
import { drawChart, fillTable, seriesOf } from './charts.js';

const $ = (id) => document.getElementById(id);
let lastPage = null;
let running = null;  // AbortController of the query in flight

function setError(message) {
  $('console-error').hidden = !message;
  $('console-error').textContent = message || '';
}

function drawQuickChart() {
  const canvas = $('console-chart');
  const kind = $('chart-kind').value;
  const old = window.Chart.getChart(canvas);
  if (old) old.destroy();
  canvas.hidden = true;
  if (!lastPage || kind === 'none' || !lastPage.rows.length || lastPage.columns.length < 2) return;
  const data = seriesOf(lastPage);
  if (!data.series.length || data.series.every((s) => s.values.every((v) => v === null || Number.isNaN(v)))) return;
  canvas.hidden = false;
  drawChart(canvas, kind, data);
}

export async function runConsole(onAuth) {
  const sql = $('sql').value;
  if (running) running.abort('superseded');  // its answer would be for SQL no longer shown
  const mine = new AbortController();
  running = mine;
  $('stop').disabled = false;
  setError('');
  $('console-meta').textContent = 'running…';
  $('console-grid').dataset.state = 'loading';
  try {
    lastPage = await query(sql, { signal: mine.signal });
  } catch (e) {
    // Aborted, the request rejects with the reason given to abort().
    if (mine.signal.aborted && mine.signal.reason === 'superseded') return;  // the newer run owns the console
    lastPage = null;
    $('console-grid').replaceChildren();
    drawQuickChart();
    if (mine.signal.aborted) {
      $('console-meta').textContent = 'stopped (the query was cancelled)';
      $('console-grid').dataset.state = 'stopped';
    } else {
      $('console-meta').textContent = '';
      $('console-grid').dataset.state = 'error';
      setError(e.message);
      onAuth(e);
    }
    return;
  } finally {
    if (running === mine) {
      running = null;
      $('stop').disabled = true;
    }
  }
  const s = lastPage.stats || {};
  $('console-meta').textContent = `${lastPage.rows.length} rows${lastPage.next_token ? ' (first page; the CSV has all)' : ''}` +
    ` · ${Number(s.elapsed_ms).toFixed(1)} ms${s.cached ? ' · cached' : ''} · ${lastPage.engine} · ${lastPage.query_id}`;
  fillTable($('console-grid'), lastPage.columns, lastPage.rows);
  $('console-grid').dataset.state = 'ok';
  drawQuickChart();
}

export function stopConsole() {
  if (running) running.abort('stopped');
}

export async function downloadCsv(onAuth) {
  setError('');
  try {
    const { csv, complete } = await queryCsv($('sql').value);
    // A file that looks whole but is not would be worse than none: say where it stops.
    if (!complete) setError('The CSV holds the first 1,000,000 rows only: add LIMIT/OFFSET, or read the whole result at the query\'s result_location.');
    const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = 'query.csv';
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) {
    setError(e.message);
    onAuth(e);
  }
}

export function installConsole(onAuth) {
  $('run').addEventListener('click', () => runConsole(onAuth));
  $('stop').addEventListener('click', stopConsole);
  $('csv').addEventListener('click', () => downloadCsv(onAuth));
  $('chart-kind').addEventListener('change', drawQuickChart);
  $('sql').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      runConsole(onAuth);
    }
  });
}
