// The Node.js drivers against the endpoint: node-postgres (text parameters of
// unspecified type, named prepared statements) and postgres.js (parameters encoded
// by the types a Describe reports). Reads {host, port, user, password, database, ids}
// as JSON on stdin, prints what each query answered as JSON. Run by test_clients.py.
'use strict';
const pg = require('pg');
const postgresModule = require('postgres');
const postgres = postgresModule.default || postgresModule;  // 4.x is an ES module: required, its export is `default`

async function main() {
  const cfg = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  const out = {};
  const client = new pg.Client({ host: cfg.host, port: cfg.port, user: cfg.user, password: cfg.password, database: cfg.database });
  await client.connect();
  try {
    out.pg_typed = (await client.query(
      'SELECT count(*)::int AS n FROM songs_data WHERE popularity > $1 AND added_at >= $2',
      [50, new Date('2025-01-01T00:00:00Z')])).rows[0].n;
    const named = { name: 'by_popularity', text: 'SELECT song_id FROM songs_data WHERE popularity >= $1 ORDER BY song_id LIMIT $2' };
    out.pg_named = [];
    for (const values of [[90, 3], [0, 2]]) out.pg_named.push((await client.query({ ...named, values })).rows.map((r) => r.song_id));
    try {
      await client.query('SELECT count(*) FROM songs_data WHERE popularity > $1', ['not a number']);
      out.pg_bad_number = 'accepted';
    } catch (e) {
      out.pg_bad_number = e.code;
    }
  } finally {
    await client.end();
  }
  const sql = postgres({ host: cfg.host, port: cfg.port, username: cfg.user, password: cfg.password, database: cfg.database, max: 1 });
  try {
    out.pjs_bare = (await sql`SELECT ${'a'} AS s, ${41}::int + 1 AS x`)[0];
    out.pjs_typed = (await sql`SELECT count(*)::int AS n FROM songs_data WHERE popularity > ${50} AND explicit = ${false}`)[0].n;
    out.pjs_any = (await sql`SELECT count(*)::int AS n FROM songs_data WHERE song_id = ANY(${cfg.ids})`)[0].n;
    out.pjs_date = (await sql`SELECT count(*)::int AS n FROM albums_data WHERE release_date < ${new Date('2020-01-01T00:00:00Z')}`)[0].n;
  } finally {
    await sql.end();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
