// The SQL console: run a query, show the first page in a grid, chart it, download it as CSV.
import { query, queryCsv } from './api.js';
import { drawChart, fillTable, seriesOf } from './charts.js';

const $ = (id) => document.getElementById(id);
let lastPage = null;

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
  setError('');
  $('console-meta').textContent = 'running…';
  $('console-grid').dataset.state = 'loading';
  try {
    lastPage = await query(sql);
  } catch (e) {
    lastPage = null;
    $('console-meta').textContent = '';
    $('console-grid').dataset.state = 'error';
    $('console-grid').replaceChildren();
    setError(e.message);
    drawQuickChart();
    onAuth(e);
    return;
  }
  const s = lastPage.stats || {};
  $('console-meta').textContent = `${lastPage.rows.length} rows${lastPage.next_token ? ' (first page; the CSV has all)' : ''}` +
    ` · ${Number(s.elapsed_ms).toFixed(1)} ms${s.cached ? ' · cached' : ''} · ${lastPage.engine} · ${lastPage.query_id}`;
  fillTable($('console-grid'), lastPage.columns, lastPage.rows);
  $('console-grid').dataset.state = 'ok';
  drawQuickChart();
}

export async function downloadCsv(onAuth) {
  setError('');
  try {
    const csv = await queryCsv($('sql').value);
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
  $('csv').addEventListener('click', () => downloadCsv(onAuth));
  $('chart-kind').addEventListener('change', drawQuickChart);
  $('sql').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      runConsole(onAuth);
    }
  });
}
