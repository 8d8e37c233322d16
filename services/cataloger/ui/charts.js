// Turning a query page ({columns, rows}) into a Chart.js chart or a small table.
const PALETTE = ['#1db954', '#3b82f6', '#f59e0b', '#ef4444', '#8b5cf6', '#14b8a6', '#ec4899', '#64748b',
                 '#84cc16', '#f97316'];
const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|INT|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|REAL|DOUBLE|DECIMAL.*|BOOLEAN_NUM)$/i;

export function isNumericType(type) {
  return NUMERIC.test(String(type || '').trim());
}

// A cell as a chart's number: null (a gap) for NULL and for what has no place on an
// axis, such as a DOUBLE's "NaN" and "Infinity" (strings in the page: JSON has no such numbers).
function chartNumber(v) {
  const n = v === null ? NaN : Number(v);
  return Number.isFinite(n) ? n : null;
}

// {labels, series:[{name, values}]} from a page, by the view's x and y columns
// (x: the named or first column; y: the named or every other numeric column).
export function seriesOf(page, x = '', y = []) {
  const names = page.columns.map((c) => c.name);
  let xi = x ? names.indexOf(x) : 0;
  if (xi < 0) throw new Error(`column ${x} is not in the result`);
  let yis = y.length ? y.map((n) => names.indexOf(n))
                     : page.columns.map((c, i) => (i !== xi && isNumericType(c.type) ? i : -1)).filter((i) => i >= 0);
  if (yis.some((i) => i < 0)) throw new Error(`columns ${y.join(', ')} are not all in the result`);
  if (!yis.length && names.length > 1) yis = [xi === 0 ? 1 : 0];
  return {
    labels: page.rows.map((r) => (r[xi] === null ? '(null)' : String(r[xi]))),
    series: yis.map((i) => ({ name: names[i], values: page.rows.map((r) => chartNumber(r[i])) })),
  };
}

export function drawChart(canvas, kind, data) {
  const old = window.Chart.getChart(canvas);
  if (old) old.destroy();
  const horizontal = kind === 'hbar';
  const type = kind === 'hbar' ? 'bar' : kind;
  const doughnut = type === 'doughnut';
  const datasets = data.series.map((s, i) => ({
    label: s.name,
    data: s.values,
    backgroundColor: doughnut ? data.labels.map((_, j) => PALETTE[j % PALETTE.length]) : PALETTE[i % PALETTE.length],
    borderColor: doughnut ? '#fff' : PALETTE[i % PALETTE.length],
    pointRadius: 2,
  }));
  return new window.Chart(canvas, {
    type,
    data: { labels: data.labels, datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: horizontal ? 'y' : 'x',
      plugins: { legend: { display: doughnut || datasets.length > 1, position: 'bottom' } },
      scales: doughnut ? {} : { x: { stacked: false }, y: { beginAtZero: true } },
    },
  });
}

function cellText(v) {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

// Fills a <table> with a header row and one row per result row (text only, never HTML).
export function fillTable(table, columns, rows) {
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const c of columns) {
    const th = document.createElement('th');
    th.textContent = typeof c === 'string' ? c : c.name;
    if (typeof c !== 'string') th.title = c.type;
    head.appendChild(th);
  }
  const body = table.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    for (const v of r) {
      const td = tr.insertCell();
      td.textContent = cellText(v);
      if (typeof v === 'number') td.className = 'num';
    }
  }
}
