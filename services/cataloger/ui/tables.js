// The table browser: GET /v1/tables, then a table's columns and partitions.
import { getJson } from './api.js';
import { fillTable } from './charts.js';

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

async function showTable(detail, name, openInConsole) {
  detail.replaceChildren(el('p', 'meta', `Loading ${name}…`));
  try {
    const [table, parts] = await Promise.all([
      getJson(`../v1/tables/${encodeURIComponent(name)}`),
      getJson(`../v1/tables/${encodeURIComponent(name)}/partitions`),
    ]);
    const head = el('h3', '', `${table.database}.${table.name}`);
    const meta = el('p', 'meta',
                    `${table.format} · ${table.partitions} partitions · schema version ${table.version} · updated ${table.updated_at} · ${table.location}`);
    const preview = el('button', '', 'Preview rows in the console');
    preview.type = 'button';
    preview.addEventListener('click', () => openInConsole(`SELECT * FROM ${table.name} LIMIT 100`, true));
    const columns = el('table', 'grid-table columns');
    fillTable(columns, ['column', 'type'],
              table.columns.map((c) => [c.name, c.type]).concat(table.partition_keys.map((k) => [k, 'partition key'])));
    const partitions = el('table', 'grid-table partitions');
    const rows = parts.partitions
      .map((p) => [p.values.join('/'), p.files.length, p.files.reduce((n, f) => n + f.size, 0), p.location])
      .sort((a, b) => (a[0] < b[0] ? 1 : -1));
    fillTable(partitions, ['partition', 'files', 'bytes', 'location'], rows);
    detail.replaceChildren(head, meta, preview, el('h4', '', 'Columns'), columns, el('h4', '', 'Partitions'), partitions);
  } catch (e) {
    detail.replaceChildren(el('p', 'error', e.message));
  }
}

// Lists the tables; returns them (the health panels use the list too).
export async function renderTables(list, detail, openInConsole) {
  const { tables } = await getJson('../v1/tables');
  list.replaceChildren();
  const head = list.createTHead().insertRow();
  for (const h of ['table', 'format', 'partitions', 'columns', 'updated_at']) {
    const th = document.createElement('th');
    th.textContent = h;
    head.appendChild(th);
  }
  const body = list.createTBody();
  for (const t of tables) {
    const tr = body.insertRow();
    const name = el('button', 'link', t.name);
    name.type = 'button';
    name.dataset.table = t.name;
    name.addEventListener('click', () => showTable(detail, t.name, openInConsole));
    tr.insertCell().appendChild(name);
    for (const v of [t.format, t.partitions, t.columns.length, t.updated_at]) tr.insertCell().textContent = String(v);
  }
  if (!tables.length) detail.replaceChildren(el('p', 'empty', 'No tables yet: run the extractor, then the crawl lists them.'));
  return tables;
}
