# Over 400 lines on purpose: every client case runs against one served lake, set up once
# for this module.
"""The cataloger's PostgreSQL endpoint driven by real clients nobody here wrote:
psql (Debian postgresql-client), psycopg 3 (extended protocol, parameters,
cancel, binary results), SQLAlchemy's inspector, pgx v5 (Grafana's driver), psycopg2,
asyncpg, node-postgres and postgres.js, against `spotify-etl up` serving the
offline demo sample. Each answer is compared with POST /v1/query on the same data.
Run by tests/pgwire/run.sh (ctest: pgwire_clients)."""

import csv
import io
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request
import uuid

import asyncio
import datetime
import decimal

import asyncpg
import psycopg
import psycopg2
import psycopg2.extras
import sqlalchemy

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "browser"))
from demo_process import child_processes  # noqa: E402  (the /proc walk the isolation bench uses too)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from ports import free_port  # noqa: E402,F401  (reserved loopback ports, also for test_tls)

TOKEN = "pgwire-test-token"
READ_TOKEN = "pgwire-read-only-token"  # ETL_READ_TOKEN: dashboards' password
PROC = None
PORTS = {}
WORKDIR = None


def setUpModule():
    """`spotify-etl demo --once` fills ./data/demo (the demo's own HTTP calls carry no
    token), then `spotify-etl up` serves that data with ETL_API_TOKEN set."""
    global PROC, WORKDIR
    WORKDIR = tempfile.TemporaryDirectory(prefix="pgwire-test-")
    for name in ("extractor", "transformer", "cataloger", "pg"):
        PORTS[name] = free_port()
    env = dict(os.environ)
    env.update({
        "ETL_EXTRACTOR_ADDR": f"127.0.0.1:{PORTS['extractor']}",
        "ETL_TRANSFORMER_ADDR": f"127.0.0.1:{PORTS['transformer']}",
        "ETL_CATALOGER_ADDR": f"127.0.0.1:{PORTS['cataloger']}",
    })
    env.pop("ETL_API_TOKEN", None)
    env.pop("ETL_READ_TOKEN", None)
    binary = os.path.join(os.environ["ETL_BIN_DIR"], "spotify-etl")
    demo = subprocess.run([binary, "demo", "--once"], cwd=WORKDIR.name, env=dict(env, ETL_PG_ADDR="off"),
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    if demo.returncode != 0:
        raise RuntimeError("spotify-etl demo --once failed: " + demo.stderr[-3000:])
    env.update({
        "ETL_PG_ADDR": f"127.0.0.1:{PORTS['pg']}",
        "ETL_API_TOKEN": TOKEN,
        "ETL_READ_TOKEN": READ_TOKEN,
        "ETL_RAW_URL": "file://./data/demo/raw",
        "ETL_TRANSFORMED_URL": "file://./data/demo/transformed",
        "ETL_PG_MAX_CONNECTIONS": "6",
        "ETL_PG_READ_TIMEOUT_S": "2",
        "ETL_PG_MAX_MESSAGE_BYTES": "65536",
    })
    log_path = os.path.join(WORKDIR.name, "up.log")
    with open(log_path, "w") as log:
        PROC = subprocess.Popen([binary, "up"], cwd=WORKDIR.name, env=env, stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if len(http_query("SELECT count(*) FROM songs_data")["rows"]) == 1 and \
                    http_query("SELECT count(*) FROM albums_data")["rows"][0][0] > 0:
                return
        except Exception:  # not up or not crawled yet
            pass
        if PROC.poll() is not None:
            break
        time.sleep(0.3)
    PROC.kill()
    raise RuntimeError("spotify-etl up did not serve the demo data; log: " + open(log_path).read()[-3000:])


def tearDownModule():
    if PROC and PROC.poll() is not None:  # it ended before the tests were done: say how
        print(f"\nspotify-etl up ended early with {PROC.returncode}; log:\n"
              + open(os.path.join(WORKDIR.name, "up.log")).read()[-3000:])
    elif PROC:
        PROC.send_signal(signal.SIGTERM)
        try:
            PROC.wait(timeout=30)
        except subprocess.TimeoutExpired:
            PROC.kill()
    if WORKDIR:
        WORKDIR.cleanup()


def http_query(sql):
    req = urllib.request.Request(f"http://127.0.0.1:{PORTS['cataloger']}/v1/query",
                                 data=json.dumps({"sql": sql}).encode(),
                                 headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def http_table(name):
    req = urllib.request.Request(f"http://127.0.0.1:{PORTS['cataloger']}/v1/tables/{name}",
                                 headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def http_query_tables():
    req = urllib.request.Request(f"http://127.0.0.1:{PORTS['cataloger']}/v1/tables",
                                 headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["tables"]


def open_pg_connections():
    req = urllib.request.Request(f"http://127.0.0.1:{PORTS['cataloger']}/metrics",
                                 headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("spotify_etl_cataloger_pg_connections "):
                return float(line.split()[1])
    raise AssertionError("no spotify_etl_cataloger_pg_connections in /metrics")


def dsn(password=TOKEN):
    return f"host=127.0.0.1 port={PORTS['pg']} user=grafana dbname=spotify password={password} sslmode=prefer"


def psql(*args, password=TOKEN, **env_extra):
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="10", **env_extra)
    return subprocess.run(["psql", "-X", "-h", "127.0.0.1", "-p", str(PORTS["pg"]), "-U", "grafana", "-d", "spotify",
                           "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose", *args],
                          env=env, capture_output=True, text=True, timeout=60)


# One value of every type the endpoint sends, for the text/binary comparisons.
EVERY_TYPE_SQL = (
    "SELECT 1::BIGINT AS i8, 2::INTEGER AS i4, 3::SMALLINT AS i2, 2.5::DOUBLE AS f8, 1.5::FLOAT AS f4, "
    "12.345::DECIMAL(10,3) AS n, -0.5::DECIMAL(4,2) AS nn, "
    "170141183460469231731687303715884105727::HUGEINT AS huge, true AS b, DATE '2024-02-29' AS d, "
    "TIMESTAMP '2024-01-01 10:11:12.5' AS ts, TIMESTAMPTZ '2024-01-01 10:11:12+00' AS tz, TIME '10:00:01' AS t, "
    "INTERVAL '1 year 1 day 2 hours' AS iv, '00112233-4455-6677-8899-aabbccddeeff'::UUID AS u, "
    "['a', NULL, 'b\"c'] AS texts, [1, 2]::BIGINT[] AS longs, [1.5, 2]::DOUBLE[] AS doubles, [true]::BOOLEAN[] AS bools, "
    "[]::VARCHAR[] AS empty, {'x': 1} AS obj, NULL::BIGINT AS nothing, 'héllo' AS txt")


class Psql(unittest.TestCase):
    def test_simple_query_matches_http(self):
        sql = "SELECT artist_id, count(*) AS n FROM songs_data GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5"
        r = psql("-A", "-t", "-F", "|", "-c", sql)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = [line.split("|") for line in r.stdout.strip().splitlines()]
        want = [[row[0], str(row[1])] for row in http_query(sql)["rows"]]
        self.assertTrue(want, "the demo has songs")
        self.assertEqual(got, want)

    def test_pgoptions_settings_start_the_session(self):
        r = psql("-A", "-t", "-c", "SHOW statement_timeout", "-c", "SHOW application_name",
                 PGOPTIONS=r"-c statement_timeout=3s --application-name=nightly\ report")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(), ["3s", "nightly", "report"])
        r = psql("-c", "SELECT 1", PGOPTIONS="-c statement_timeout=soon")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("FATAL", r.stderr)
        self.assertIn("statement_timeout", r.stderr)
        with psycopg.connect(dsn() + " options='-c etl.max_age_s=60'", connect_timeout=10) as conn:
            self.assertEqual(conn.execute("SHOW etl.max_age_s").fetchone()[0], "60")
            conn.execute("SET etl.max_age_s = 5")
            conn.execute("RESET etl.max_age_s")
            self.assertEqual(conn.execute("SHOW etl.max_age_s").fetchone()[0], "60", "RESET returns to PGOPTIONS'")

    def test_backslash_copy_writes_a_csv_file_of_the_query(self):
        # psql's \copy sends COPY ... TO STDOUT and writes the file on the client's side.
        sql = "SELECT song_id, song_name, popularity, duration_ms FROM songs_data ORDER BY song_id"
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "songs.csv")
            r = psql("-c", f"\\copy ({sql}) TO '{path}' CSV HEADER")
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(path, newline="", encoding="utf-8") as f:
                rows = list(csv.reader(f))
        want = http_query(sql)
        self.assertEqual(r.stdout.strip(), f"COPY {len(want['rows'])}")
        self.assertEqual(rows[0], [c["name"] for c in want["columns"]])
        self.assertEqual(rows[1:], [["" if v is None else str(v) for v in row] for row in want["rows"]])
        self.assertTrue(any("\n" in row[1] for row in rows[1:]), "the demo has a song name with a line break (quoted)")

    def test_list_tables(self):
        r = psql("-c", r"\dt")
        self.assertEqual(r.returncode, 0, r.stderr)
        for table in ("albums_data", "artists_data", "songs_data"):
            self.assertIn(table, r.stdout)

    def test_describe_table_lists_its_columns(self):
        r = psql("-c", r"\d songs_data")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('Table "spotify.songs_data"', r.stdout)
        for column in http_table("songs_data")["columns"]:
            self.assertIn(column["name"], r.stdout)
        self.assertRegex(r.stdout, r"artist_ids\s+\|\s+text\[\]")
        self.assertRegex(r.stdout, r"duration_ms\s+\|\s+bigint")

    def test_roles_privileges_types_functions_and_extensions(self):
        # psql's \du, \dp, \dT, \df, \dx and \dn+: the session's user may read every table.
        r = psql("-A", "-t", "-F", "|", "-c", r"\du", "-c", r"\dp", "-c", r"\dT", "-c", r"\df", "-c", r"\dx",
                 "-c", r"\dn+")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.strip().splitlines()
        self.assertEqual(lines[0].split("|")[0], "grafana")  # \du
        tables = sorted(t["name"] for t in http_query_tables())
        self.assertEqual(lines[1:1 + len(tables)], [f"spotify|{t}|table|grafana=r/grafana||" for t in tables])
        self.assertEqual(lines[1 + len(tables):], ["spotify|grafana||"])  # \dT, \df, \dx list nothing

    def test_dconfig_lists_what_the_session_set(self):
        r = psql("-A", "-t", "-F", "|", "-c", r"\dconfig", "-c", "SET statement_timeout = '5s'", "-c", r"\dconfig")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip().splitlines(), ["SET", "statement_timeout|5s"])

    def test_wrong_password_is_28P01(self):
        r = psql("-c", "SELECT 1", password="wrong")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("password authentication failed", r.stderr)
        with self.assertRaises(psycopg.OperationalError) as e:
            psycopg.connect(dsn("wrong"), connect_timeout=10)
        self.assertIn("password authentication failed", str(e.exception))

    def test_the_read_only_token_is_a_password_and_may_only_read_over_http(self):
        # ETL_READ_TOKEN, what a Grafana data source holds: psql queries with it ...
        r = psql("-A", "-t", "-c", "SELECT count(*) FROM songs_data", password=READ_TOKEN)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(int(r.stdout.strip()), http_query("SELECT count(*) FROM songs_data")["rows"][0][0])

        # ... and over HTTP it reads on each service, but triggers, reprocesses and crawls nothing.
        def call(service, method, path, body=None, token=READ_TOKEN):
            req = urllib.request.Request(f"http://127.0.0.1:{PORTS[service]}{path}", method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Authorization": f"Bearer {token}",
                                                  "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    return resp.status, resp.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, e.read().decode()

        for service, method, path, body in [
                ("cataloger", "POST", "/v1/query", {"sql": "SELECT 1"}),
                ("cataloger", "GET", "/v1/tables/songs_data", None),
                ("cataloger", "GET", "/iceberg/v1/namespaces/spotify/tables/songs_data", None),
                ("extractor", "GET", "/v1/runs", None),
                ("transformer", "GET", "/v1/status", None)]:
            status, text = call(service, method, path, body)
            self.assertEqual(status, 200, f"{method} {path}: {text[:300]}")
        for service, method, path, body in [
                ("extractor", "POST", "/v1/runs", {}),
                ("transformer", "POST", "/v1/reprocess", {"prefix": "processed/"}),
                ("cataloger", "POST", "/v1/crawl", {})]:
            status, text = call(service, method, path, body)
            self.assertEqual(status, 403, f"{method} {path}: {text[:300]}")
            self.assertIn("ETL_READ_TOKEN", json.loads(text)["detail"])
        self.assertEqual(call("extractor", "GET", "/v1/runs", token=READ_TOKEN + "x")[0], 401)

    def test_refused_statement_is_42501(self):
        r = psql("-c", "DROP TABLE songs_data")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("42501", r.stderr)


class Psycopg(unittest.TestCase):
    def setUp(self):
        self.conn = psycopg.connect(dsn(), connect_timeout=10, autocommit=True)

    def tearDown(self):
        self.conn.close()

    def test_libpq_asking_for_a_newer_protocol_is_negotiated_down_to_3_0(self):
        # libpq 18 (psycopg's wheel) asks for 3.2 with max_protocol_version=latest;
        # the server's NegotiateProtocolVersion must name 3.0 as a whole version.
        self.assertGreaterEqual(psycopg.pq.version(), 180000, "this test needs libpq 18 or later")
        for extra in (" max_protocol_version=latest", " min_protocol_version=3.0 max_protocol_version=3.2"):
            with self.subTest(extra=extra), psycopg.connect(dsn() + extra, connect_timeout=10, autocommit=True) as conn:
                self.assertEqual(conn.info.pgconn.protocol_version, 3)
                self.assertEqual(conn.execute("SELECT count(*) FROM songs_data").fetchone()[0],
                                 http_query("SELECT count(*) FROM songs_data")["rows"][0][0])
        with self.assertRaises(psycopg.OperationalError) as e:  # a client that needs 3.2 is told the server's version
            psycopg.connect(dsn() + " min_protocol_version=3.2", connect_timeout=10)
        self.assertIn("3.0", str(e.exception))

    def test_direct_tls_to_an_endpoint_without_a_certificate_fails_at_once(self):
        started = time.monotonic()
        with self.assertRaises(psycopg.OperationalError):
            psycopg.connect(dsn() + " sslmode=require sslnegotiation=direct", connect_timeout=10)
        self.assertLess(time.monotonic() - started, 5, "closed at once, not at the start-up's read timeout")

    def test_copy_to_stdout_gives_the_rows_of_the_query(self):
        # psycopg's cursor.copy(): text format read back with the column types, so
        # PostgreSQL's escaping (tabs, line breaks, backslashes, arrays) must hold.
        sql = "SELECT song_id, song_name, popularity, artist_ids, explicit, extracted_at FROM songs_data ORDER BY song_id"
        with self.conn.cursor() as cur:
            cur.execute(sql)
            want, types = cur.fetchall(), [d.type_code for d in cur.description]
            with cur.copy(f"COPY ({sql}) TO STDOUT") as copy:
                copy.set_types(types)
                rows = list(copy.rows())
            self.assertEqual(rows, want)
            self.assertEqual(cur.rowcount, len(want))
            cur.execute("SELECT * FROM albums_data LIMIT 0")
            names = [d.name for d in cur.description]
            with cur.copy("COPY albums_data TO STDOUT (FORMAT csv, HEADER)") as copy:
                data = b"".join(bytes(chunk) for chunk in copy).decode()
        lines = list(csv.reader(io.StringIO(data)))
        self.assertEqual(lines[0], names)
        self.assertEqual(len(lines) - 1, http_query("SELECT count(*) FROM albums_data")["rows"][0][0])
        for statement, error in (("COPY songs_data FROM STDIN", psycopg.errors.InsufficientPrivilege),
                                 ("COPY songs_data TO '/tmp/songs.csv'", psycopg.errors.InsufficientPrivilege),
                                 ("COPY (SELECT 1) TO STDOUT (FORMAT binary)", psycopg.errors.FeatureNotSupported),
                                 ("COPY (DELETE FROM songs_data) TO STDOUT", psycopg.errors.SyntaxError),
                                 ("COPY (WITH gone AS (DELETE FROM songs_data RETURNING *) SELECT * FROM gone) TO STDOUT",
                                  psycopg.errors.InsufficientPrivilege)):  # the gate's, as for any query
            with self.subTest(statement=statement), self.assertRaises(error), self.conn.cursor() as cur:
                with cur.copy(statement) as copy:
                    list(copy)
        self.assertEqual(self.conn.execute("SELECT 1").fetchone()[0], 1, "the session goes on")

    def test_parameters_are_bound_as_literals(self):
        sql = "SELECT count(*) FROM songs_data WHERE popularity >= {} AND song_name <> {}"
        want = http_query(sql.format(10, "'x'' OR ''1''=''1'"))["rows"][0][0]
        with self.conn.cursor() as cur:
            cur.execute(sql.format("%s", "%s"), (10, "x' OR '1'='1"))
            self.assertEqual(cur.fetchone()[0], want)
            cur.execute("SELECT count(*) FROM songs_data WHERE song_id = %s", ("'; DROP TABLE songs_data; --",))
            self.assertEqual(cur.fetchone()[0], 0)

    def test_list_parameters_bind_as_arrays_in_text_and_binary(self):
        # psycopg sends a list as a typed array (text[], int2[] ...), in binary for a binary cursor.
        ids = [r[0] for r in http_query("SELECT song_id FROM songs_data ORDER BY 1 LIMIT 3")["rows"]]
        want = [http_value("SELECT count(*) FROM songs_data WHERE song_id IN ({})".format(", ".join(f"'{i}'" for i in ids))),
                http_value("SELECT count(*) FROM songs_data WHERE popularity IN (96, 97)"), [1.5, None]]
        for binary in (False, True):
            with self.conn.cursor(binary=binary) as cur:
                got = [cur.execute("SELECT count(*) FROM songs_data WHERE song_id = ANY(%s)", (ids,)).fetchone()[0],
                       cur.execute("SELECT count(*) FROM songs_data WHERE popularity = ANY(%s)", ([96, 97, 70000],)).fetchone()[0],
                       cur.execute("SELECT %s::float8[]", ([1.5, None],)).fetchone()[0]]
                self.assertEqual(got, want, f"binary={binary}")
        self.assertEqual(want[0], 3)
        # An array literal written in the statement (psql, pgx's simple protocol) takes the
        # column's type, as in PostgreSQL: integers here, with white space after the commas.
        written = "SELECT count(*) FROM songs_data WHERE popularity = ANY('{96, 97, 70000}')"
        self.assertEqual(self.conn.execute(written).fetchone()[0], want[1])
        self.assertEqual(self.conn.execute("SELECT count(*) FROM songs_data WHERE popularity = ANY('{}')").fetchone()[0], 0)
        # A list column against an array literal: PostgreSQL's containment, DuckDB's list_has_all.
        artist = http_value("SELECT artist_ids[1] FROM songs_data ORDER BY song_id LIMIT 1")
        contains = http_value(f"SELECT count(*) FROM songs_data WHERE list_has_all(artist_ids, ['{artist}'])")
        self.assertGreater(contains, 0)
        self.assertEqual(self.conn.execute(f"SELECT count(*) FROM songs_data WHERE artist_ids @> '{{{artist}}}'").fetchone()[0],
                         contains)
        self.assertEqual(self.conn.execute(f"SELECT '{{{artist}}}'::text[]").fetchone()[0], [artist])

    def test_pivot_statements_run_as_their_select(self):
        # A top-level PIVOT (and UNPIVOT) is a query; without its IN list it is two
        # statements to DuckDB and is refused saying how to write it.
        sql = "PIVOT albums_data ON album_type IN ('album', 'single') USING count(*) GROUP BY dt ORDER BY dt"
        want = [tuple(r) for r in http_query(sql)["rows"]]
        self.assertTrue(want)
        with self.conn.cursor() as cur:
            cur.execute(sql)
            self.assertEqual([d.name for d in cur.description], ["dt", "album", "single"])
            self.assertEqual(cur.fetchall(), want)
            cur.execute("UNPIVOT (SELECT 1 AS a, 2 AS b) ON a, b INTO NAME k VALUE v")
            self.assertEqual(cur.fetchall(), [("a", 1), ("b", 2)])
        with self.assertRaises(psycopg.errors.InsufficientPrivilege) as e:
            self.conn.execute("PIVOT albums_data ON album_type USING count(*)")
        self.assertIn("ON col IN (", str(e.exception))

    def test_postgres_functions_that_read_nothing_run(self):
        rows = self.conn.execute("SELECT pg_typeof(popularity), pg_size_pretty(2048) FROM songs_data LIMIT 1").fetchall()
        self.assertEqual(len(rows), 1)
        self.assertIn(rows[0][0], ("integer", "bigint"))
        self.assertEqual(rows[0][1], "2.0 KiB")
        with self.assertRaises(psycopg.errors.InsufficientPrivilege):  # its body reads duckdb_views()
            self.conn.execute("SELECT pg_get_viewdef(1)")

    def test_numeric_without_precision_keeps_its_digits(self):
        # DuckDB's own NUMERIC is DECIMAL(18,3): round(1.23456::numeric, 4) was 1.235.
        avg = http_value("SELECT round(avg(popularity), 2) FROM songs_data")
        count = http_value("SELECT count(*) / 8 FROM songs_data")
        for binary in (False, True):
            with self.subTest(binary=binary), self.conn.cursor(binary=binary) as cur:
                row = cur.execute("SELECT round(1.23456::numeric, 4), '0012.340'::numeric, CAST(%s AS numeric), "
                                  "round(avg(popularity)::numeric, 2), count(*)::numeric / 8, 2.5::numeric(10,2) "
                                  "FROM songs_data", (decimal.Decimal("1.23456"),)).fetchone()
                self.assertEqual(row[:3], (decimal.Decimal("1.2346"), decimal.Decimal("12.340"), decimal.Decimal("1.23456")))
                self.assertEqual((float(row[3]), float(row[4])), (avg, count))
                self.assertNotEqual(avg, round(avg, 1), "two decimals must matter")
                # round() of a numeric cast is numeric with the digits asked for, rounding the decimal value:
                # 57 / 200 is 0.285 (a double just below it rounded to 0.28).
                self.assertEqual(cur.description[3].type_code, 1700)
                self.assertEqual(row[3].as_tuple().exponent, -2)
                tie = cur.execute("SELECT round(avg(x)::numeric, 2), round(avg(x), 2) FROM (SELECT CASE WHEN i < 57 "
                                  "THEN 1 ELSE 0 END FROM range(200) r(i)) t(x)").fetchone()
                self.assertEqual(tie, (decimal.Decimal("0.29"), decimal.Decimal("0.29")))
                self.assertEqual([d.type_code for d in cur.description], [1700, 1700])
                self.assertEqual(row[5], decimal.Decimal("2.50"))
                # PostgreSQL's float is float8 (the engine's FLOAT is float4: 1.2345678806304932).
                self.assertEqual(cur.execute("SELECT 1.23456789::float, CAST(1 AS float) / 3").fetchone(),
                                 (1.23456789, 1 / 3))
                self.assertEqual([d.type_code for d in cur.description], [701, 701])

    def test_to_char_labels_dates_as_postgresql_does(self):
        # The engine has strftime, not to_char: a literal pattern is read into strftime.
        want = [tuple(r) for r in http_query("SELECT strftime(added_at, '%Y-%m') AS m, count(*) FROM songs_data "
                                             "WHERE added_at IS NOT NULL GROUP BY 1 ORDER BY 1")["rows"]]
        self.assertGreater(len(want), 1)
        for binary in (False, True):
            with self.subTest(binary=binary), self.conn.cursor(binary=binary) as cur:
                got = cur.execute("SELECT to_char(added_at, 'YYYY-MM') AS m, count(*) FROM songs_data "
                                  "WHERE added_at IS NOT NULL GROUP BY 1 ORDER BY 1").fetchall()
                self.assertEqual(got, want)
                self.assertEqual(cur.description[0].name, "m")
                row = cur.execute("SELECT to_char(TIMESTAMP '2024-03-05 14:07:09', 'FMDay, FMDD Mon YYYY HH12:MI AM'), "
                                  "to_char(DATE '2024-03-05', %s), to_char(NULL::date, 'Month')", ("\"Q\"Q YYYY",)).fetchone()
                self.assertEqual(row, ("Tuesday, 5 Mar 2024 02:07 PM", "Q1 2024", None))
        # A pattern PostgreSQL reads and this endpoint does not is an error naming it, not other text.
        with self.assertRaises(psycopg.errors.FeatureNotSupported) as refused:
            self.conn.execute("SELECT to_char(added_at, 'YYYY-MM-DDth') FROM songs_data")
        self.assertIn('"th"', str(refused.exception))
        self.conn.rollback()

    def test_format_builds_labels_as_in_postgresql(self):
        # The engine's format() takes {} (format('%s', 1) is '%s' there); PostgreSQL's takes %s.
        want = [tuple(r) for r in http_query(
            "SELECT concat(artist_name, ' (', count(*), ')') AS label FROM artists_data "
            "GROUP BY artist_name ORDER BY 1 LIMIT 5")["rows"]]
        self.assertGreater(len(want), 1)
        self.assertEqual(http_value("SELECT format('%s', 1)"), "%s")
        for binary in (False, True):
            with self.subTest(binary=binary), self.conn.cursor(binary=binary) as cur:
                got = cur.execute("SELECT format('%s (%s)', artist_name, count(*)) AS label FROM artists_data "
                                  "GROUP BY artist_name ORDER BY 1 LIMIT 5").fetchall()
                self.assertEqual(got, want)
                self.assertEqual(cur.description[0].name, "label")
                row = cur.execute("SELECT format('%2$s, %1$s: 100%%', 'first', 'last'), format('[%s]', NULL)").fetchone()
                self.assertEqual(row, ("last, first: 100%", "[]"))
                # A bound pattern is a literal by the time it is read (psycopg's own placeholder is %s too).
                self.assertEqual(cur.execute("SELECT format(%s, 7)", ("n=%s",)).fetchone(), ("n=7",))
        # What PostgreSQL refuses is refused with its SQLSTATE; what it reads and this does not, with 0A000.
        with self.assertRaises(psycopg.errors.InvalidParameterValue) as refused:
            self.conn.execute("SELECT format('%s %s', 1)")
        self.assertIn("too few arguments for format()", str(refused.exception))
        self.conn.rollback()
        with self.assertRaises(psycopg.errors.FeatureNotSupported):
            self.conn.execute("SELECT format('%I', 'songs_data')")
        self.conn.rollback()

    def test_regular_expressions_and_like_escapes_match_as_in_postgresql(self):
        # The engine's own ~ matches the whole text; PostgreSQL's finds the pattern anywhere.
        want = http_value("SELECT count(*) FROM songs_data WHERE regexp_matches(song_name, 'o', 'i')")
        whole = http_value("SELECT count(*) FROM songs_data WHERE song_name ~ 'o'")
        self.assertGreater(want, whole)
        for binary in (False, True):
            with self.subTest(binary=binary), self.conn.cursor(binary=binary) as cur:
                got = cur.execute("SELECT count(*) FILTER (WHERE song_name ~* 'O'), count(*) FILTER (WHERE song_name !~* %s) "
                                  "FROM songs_data WHERE song_name IS NOT NULL", ("o",)).fetchone()
                total = http_value("SELECT count(*) FROM songs_data WHERE song_name IS NOT NULL")
                self.assertEqual(got, (want, total - want))
                self.assertEqual(cur.execute("SELECT 'a_b' LIKE 'a\\_b', 'axb' LIKE 'a\\_b', '50%%' LIKE %s",
                                             ("%\\%",)).fetchone(), (True, False, True))
                # SIMILAR TO's % and _ are SQL's wildcards; the engine's SIMILAR TO reads a regular expression.
                similar = cur.execute("SELECT count(*) FROM songs_data WHERE song_name SIMILAR TO '%(o|O)%'").fetchone()[0]
                self.assertEqual(similar, want)
                self.assertEqual(cur.execute("SELECT 'a.c' SIMILAR TO 'a.c', 'abc' SIMILAR TO 'a.c', 'abc' SIMILAR TO 'a_c'")
                                 .fetchone(), (True, False, True))
                # substring(x FROM 'pattern') is a regular expression (the engine's read it as a position).
                self.assertEqual(cur.execute("SELECT substring('Song (2019 Remaster)' FROM '\\((\\d{4})'), "
                                             "substring('abc' FROM '[0-9]+'), substring('hello' FROM 2 FOR 3)").fetchone(),
                                 ("2019", None, "ell"))
                first_words = cur.execute("SELECT count(substring(song_name FROM '^[A-Za-z]+')) FROM songs_data").fetchone()[0]
                self.assertGreater(first_words, 0)
                self.assertEqual(first_words, http_value(
                    "SELECT count(*) FROM songs_data WHERE regexp_matches(song_name, '^[A-Za-z]+')"))
        self.assertEqual(http_value("SELECT 'abc' SIMILAR TO 'a.c'"), True)
        with self.assertRaises(psycopg.errors.FeatureNotSupported) as refused:
            self.conn.execute("SELECT count(*) FROM songs_data WHERE song_name ~ artist_id")
        self.assertIn("regexp_matches", str(refused.exception))
        self.conn.rollback()

    def test_generate_series_in_a_select_list_gives_rows(self):
        # A dashboard's calendar: a row per day, LEFT JOINed to the data so empty days show.
        # The engine's own generate_series() there is one row holding a list.
        want = [tuple(r) for r in http_query(
            "SELECT d::DATE, count(s.song_id) FROM generate_series(TIMESTAMP '2025-06-01', TIMESTAMP '2025-06-30', "
            "INTERVAL 1 DAY) t(d) LEFT JOIN songs_data s ON s.added_at::DATE = d::DATE GROUP BY 1 ORDER BY 1")["rows"]]
        self.assertEqual(len(want), 30)
        calendar = ("WITH days AS (SELECT generate_series(TIMESTAMP '2025-06-01', TIMESTAMP '2025-06-30', "
                    "INTERVAL '1 day')::date AS day) SELECT day, count(s.song_id) FROM days "
                    "LEFT JOIN songs_data s ON s.added_at::date = day GROUP BY 1 ORDER BY 1")
        for binary in (False, True):
            with self.subTest(binary=binary), self.conn.cursor(binary=binary) as cur:
                self.assertEqual(cur.execute("SELECT generate_series(1, 3) AS n").fetchall(), [(1,), (2,), (3,)])
                self.assertEqual(cur.description[0].name, "n")
                got = cur.execute(calendar).fetchall()
                self.assertEqual([(d.isoformat(), n) for d, n in got], want)
                # date_trunc() of a timestamp is a timestamp, as in PostgreSQL (DuckDB's is a date
                # for a week): the weekly buckets are datetimes, at midnight.
                weeks = cur.execute("SELECT date_trunc('week', added_at) AS week, count(*) FROM songs_data "
                                    "WHERE added_at IS NOT NULL GROUP BY 1 ORDER BY 1").fetchall()
                self.assertTrue(weeks)
                self.assertEqual(cur.description[0].type_code, 1114)
                for week, _ in weeks:
                    self.assertIsInstance(week, datetime.datetime)
                    self.assertEqual((week.weekday(), week.hour, week.minute), (0, 0, 0))
                self.assertEqual(sum(n for _, n in weeks), http_value("SELECT count(added_at) FROM songs_data"))
                # The same calendar as PostgreSQL users write it, the function in FROM: its alias
                # names its column there (DuckDB's `d` would be the row, a struct).
                in_from = ("SELECT d::date, count(s.song_id) FROM generate_series(TIMESTAMP '2025-06-01', "
                           "TIMESTAMP '2025-06-30', INTERVAL '1 day') d LEFT JOIN songs_data s "
                           "ON s.added_at::date = d::date GROUP BY 1 ORDER BY 1")
                self.assertEqual([(d.isoformat(), n) for d, n in cur.execute(in_from).fetchall()], want)

    def test_postgres_functions_of_other_names_run(self):
        # PostgreSQL 14's date_bin(), json_agg() and every() are the engine's time_bucket(),
        # list() and bool_and() under other names: a 15-minute histogram, a list per album.
        want_bins = {b: n for b, n in http_query(
            "SELECT time_bucket(INTERVAL 15 MINUTE, added_at, TIMESTAMP '2000-01-01')::VARCHAR, count(*) "
            "FROM songs_data WHERE added_at IS NOT NULL GROUP BY 1")["rows"]}
        self.assertTrue(want_bins)
        want_albums = {a: n for a, n in http_query(
            "SELECT album_id, list(song_name ORDER BY song_name) FROM songs_data GROUP BY 1")["rows"]}
        for binary in (False, True):
            with self.subTest(binary=binary), self.conn.cursor(binary=binary) as cur:
                bins = cur.execute("SELECT date_bin('15 minutes', added_at, '2000-01-01') AS bin, count(*) "
                                   "FROM songs_data WHERE added_at IS NOT NULL GROUP BY 1").fetchall()
                self.assertEqual(cur.description[0].type_code, 1114)
                self.assertEqual({b.isoformat(sep=" "): n for b, n in bins}, want_bins)
                albums = cur.execute("SELECT album_id, json_agg(song_name ORDER BY song_name) FROM songs_data "
                                     "GROUP BY 1").fetchall()
                self.assertEqual(cur.description[1].name, "json_agg")
                self.assertEqual(dict(albums), want_albums)  # psycopg reads json as Python lists
                every, = cur.execute("SELECT every(popularity >= 0) FROM songs_data").fetchone()
                self.assertIs(every, http_value("SELECT bool_and(popularity >= 0) FROM songs_data"))
                # A histogram of popularity in ten buckets (100 is the 11th, as in PostgreSQL).
                buckets = cur.execute("SELECT width_bucket(popularity, 0, 100, 10) AS b, count(*) FROM songs_data "
                                      "WHERE popularity IS NOT NULL GROUP BY 1").fetchall()
                self.assertEqual(dict(buckets), {b: n for b, n in http_query(
                    "SELECT CASE WHEN popularity >= 100 THEN 11 ELSE popularity // 10 + 1 END, count(*) "
                    "FROM songs_data WHERE popularity IS NOT NULL GROUP BY 1")["rows"]})
                self.assertGreater(len(buckets), 3)
                # The other artists of each song, counted; source types as labels.
                others = cur.execute("SELECT sum(cardinality(array_remove(artist_ids, artist_id))), "
                                     "string_agg(DISTINCT initcap(source_type), ',') FROM songs_data").fetchone()
                self.assertEqual(list(others), http_query(
                    "SELECT sum(len(list_filter(artist_ids, lambda a: a IS DISTINCT FROM artist_id))), "
                    "string_agg(DISTINCT upper(source_type[1]) || source_type[2:], ',') FROM songs_data")["rows"][0])

    def test_integer_division_truncates_as_in_postgresql(self):
        # DuckDB's own `/` keeps the fraction (7 / 2 = 3.5, as POST /v1/query answers);
        # PostgreSQL's histogram idiom `popularity / 10 * 10` needs it truncated.
        want = [tuple(r) for r in http_query("SELECT popularity // 10 * 10 AS bucket, count(*) FROM songs_data "
                                             "WHERE popularity IS NOT NULL GROUP BY 1 ORDER BY 1")["rows"]]
        self.assertGreater(len(want), 2)
        self.assertEqual(http_value("SELECT 7 / 2"), 3.5)
        for binary in (False, True):
            with self.subTest(binary=binary), self.conn.cursor(binary=binary) as cur:
                self.assertEqual(cur.execute("SELECT 7 / 2, -7 / 2, 7.0 / 2, 7 / %s", (2,)).fetchone(), (3, -3, 3.5, 3))
                got = cur.execute("SELECT popularity / 10 * 10 AS bucket, count(*) FROM songs_data "
                                  "WHERE popularity IS NOT NULL GROUP BY 1 ORDER BY 1").fetchall()
                self.assertEqual(got, want)

    def test_nulls_sort_as_in_postgresql(self):
        # PostgreSQL's NULL is larger than any value: last ascending, first descending.
        # DuckDB puts it last both ways (as POST /v1/query answers), so a top-N with
        # ORDER BY x DESC would have dropped the NULLs PostgreSQL shows first.
        values = "(VALUES (1), (NULL), (2)) t(x)"
        self.assertEqual(http_query(f"SELECT x FROM {values} ORDER BY x DESC")["rows"], [[2], [1], [None]])
        for binary in (False, True):
            with self.subTest(binary=binary), self.conn.cursor(binary=binary) as cur:
                column = lambda sql: [r[0] for r in cur.execute(sql).fetchall()]
                self.assertEqual(column(f"SELECT x FROM {values} ORDER BY x DESC"), [None, 2, 1])
                self.assertEqual(column(f"SELECT x FROM {values} ORDER BY x"), [1, 2, None])
                self.assertEqual(column(f"SELECT x FROM {values} ORDER BY x DESC NULLS LAST"), [2, 1, None])
                self.assertEqual(column(f"SELECT x FROM {values} ORDER BY x NULLS FIRST"), [None, 1, 2])
                self.assertEqual(column(f"SELECT row_number() OVER (ORDER BY x DESC) FROM {values} ORDER BY x"),
                                 [3, 2, 1])
                self.assertEqual(column(f"SELECT array_agg(x ORDER BY x DESC) FROM {values}"), [[None, 2, 1]])
                self.assertEqual(column(f"SELECT x FROM {values} ORDER BY x DESC LIMIT 1"), [None])

    def test_lists_are_arrays_of_their_element_type(self):
        # psycopg picks each array's loader by its oid, and reads text arrays by PostgreSQL's
        # quoting: an unquoted NULL is None, a quoted "NULL" the text.
        sql = ("SELECT [DATE '2024-02-29', NULL] AS dates, [TIMESTAMP '2024-01-01 10:11:12.5'] AS stamps, "
               "[TIMESTAMPTZ '2024-01-01 10:11:12+00'] AS zoned, [12.50, 0.001]::DECIMAL(10,3)[] AS decimals, "
               "[1.5]::REAL[] AS reals, [1, NULL]::SMALLINT[] AS smalls, ['a b', '', 'NULL', NULL, 'x,{y}'] AS texts, "
               "[INTERVAL 1 day] AS intervals")
        want = [[datetime.date(2024, 2, 29), None], [datetime.datetime(2024, 1, 1, 10, 11, 12, 500000)],
                [datetime.datetime(2024, 1, 1, 10, 11, 12, tzinfo=datetime.timezone.utc)],
                [decimal.Decimal("12.500"), decimal.Decimal("0.001")], [1.5], [1, None], ["a b", "", "NULL", None, "x,{y}"],
                ["1 day"]]
        for binary in (False, True):
            with self.subTest(binary=binary), self.conn.cursor(binary=binary) as cur:
                row = list(cur.execute(sql).fetchone())
                self.assertEqual([d.type_code for d in cur.description], [1182, 1115, 1185, 1231, 1021, 1005, 1009, 1009])
                self.assertEqual(row, want)
                self.assertEqual(str(row[3][0]), "12.500", "a decimal's digits")
        # The texts as psql would print them: quoted only where PostgreSQL quotes.
        raw = self.conn.pgconn.exec_(b"SELECT [1, NULL]::INTEGER[], ['a b', 'c', 'NULL', ''], [true]")
        self.assertEqual([raw.get_value(0, c) for c in range(3)], [b"{1,NULL}", b'{"a b",c,"NULL",""}', b"{t}"])

    def test_nan_and_infinity_are_floats_not_null(self):
        # JSON has no NaN: the engine's rows carry it as a string (HTTP shows "NaN"), and
        # PostgreSQL clients get the float, not a NULL.
        self.assertEqual(http_query("SELECT 'NaN'::DOUBLE, '-inf'::DOUBLE, NULL::DOUBLE")["rows"][0],
                         ["NaN", "-Infinity", None])
        for binary in (False, True):
            with self.subTest(binary=binary), self.conn.cursor(binary=binary) as cur:
                nan, minus_inf, real_inf, listed, nothing = cur.execute(
                    "SELECT 'NaN'::DOUBLE, '-inf'::DOUBLE, 'inf'::REAL, [1.5, 'NaN'::DOUBLE, NULL], NULL::DOUBLE").fetchone()
                self.assertTrue(nan != nan, "NaN")
                self.assertEqual((minus_inf, real_inf), (float("-inf"), float("inf")))
                self.assertEqual((listed[0], listed[2]), (1.5, None))
                self.assertTrue(listed[1] != listed[1], "NaN in a list")
                self.assertIsNone(nothing)

    def test_type_oids_and_python_values(self):
        with self.conn.cursor() as cur:
            cur.execute("SELECT song_name, duration_ms, explicit, artist_ids, extracted_at, dt, popularity "
                        "FROM songs_data WHERE popularity IS NOT NULL ORDER BY song_id LIMIT 3")
            oids = [d.type_code for d in cur.description]
            self.assertEqual(oids[:6], [25, 20, 16, 1009, 1114, 25])
            self.assertIn(oids[6], (20, 23))
            rows = cur.fetchall()
        self.assertEqual(len(rows), 3)
        name, duration, explicit, artists, extracted, dt, popularity = rows[0]
        self.assertIsInstance(duration, int)
        self.assertIsInstance(explicit, bool)
        self.assertIsInstance(artists, list)
        self.assertIsInstance(artists[0], str)
        self.assertEqual(extracted.year >= 2000, True)
        want = http_query("SELECT song_name, duration_ms FROM songs_data WHERE popularity IS NOT NULL "
                          "ORDER BY song_id LIMIT 1")["rows"][0]
        self.assertEqual([name, duration], want)

    def test_binary_results_equal_text_results(self):
        """A binary cursor asks for every result column in binary (result format 1)."""
        songs = ("SELECT song_name, duration_ms, explicit, artist_ids, extracted_at, dt, popularity "
                 "FROM songs_data ORDER BY 1, 2, 3, 4, 5, 6, 7 NULLS FIRST LIMIT 50")  # a total order
        for sql in (EVERY_TYPE_SQL, songs):
            with self.subTest(sql=sql[:40]):
                text = self.conn.cursor().execute(sql).fetchall()
                binary = self.conn.cursor(binary=True).execute(sql).fetchall()
                self.assertTrue(text)
                self.assertEqual(binary, text)
        row = self.conn.cursor(binary=True).execute(EVERY_TYPE_SQL).fetchone()
        self.assertEqual(str(row[5]), "12.345")
        self.assertEqual(str(row[6]), "-0.50")
        self.assertEqual(row[7], 170141183460469231731687303715884105727)
        self.assertEqual(row[15], ["a", None, 'b"c'])
        self.assertEqual(str(row[13]), "366 days, 2:00:00")  # 1 year + 1 day, as psycopg counts a year

    def test_errors_carry_sqlstates(self):
        with self.conn.cursor() as cur:
            for sql, state in [("SELECT (1", "42601"), ("DELETE FROM songs_data", "42501"),
                               ("SELECT * FROM no_such_table", "42P01"),
                               ("SELECT no_such_function(1)", "42883"),  # off the gate's allow list
                               ("SELECT setseed(0.5)", "42501"),
                               ("SELECT 2147483647 + 1", "22003"),  # integer out of range, as in PostgreSQL
                               ("SELECT popularity FROM songs_data GROUP BY song_id", "42803")]:
                with self.assertRaises(psycopg.Error) as e:
                    cur.execute(sql)
                self.assertEqual(e.exception.sqlstate, state, f"{sql}: {e.exception}")
            cur.execute("SELECT 1")  # the connection is still usable
            self.assertEqual(cur.fetchone()[0], 1)

    def test_transactions_and_sets_are_accepted(self):
        conn = psycopg.connect(dsn(), connect_timeout=10)  # psycopg opens a transaction block itself
        with conn.cursor() as cur:
            cur.execute("SET application_name = 'pgwire-test'")
            cur.execute("SHOW application_name")
            self.assertEqual(cur.fetchone()[0], "pgwire-test")
            cur.execute("SELECT current_database(), current_schema(), version()")
            db, schema, version = cur.fetchone()
            self.assertEqual((db, schema), ("spotify", "spotify"))
            self.assertTrue(version.startswith("PostgreSQL 15"))
            with self.assertRaises(psycopg.errors.InsufficientPrivilege):
                cur.execute("SET ROLE postgres")
        conn.rollback()
        conn.close()

    def test_cancel_stops_a_running_query(self):
        slow = ("SELECT count(*) FROM songs_data a, songs_data b, songs_data c, songs_data d, songs_data e "
                "WHERE a.song_name || b.song_name || c.song_name <> d.song_name || e.song_name")
        timer = threading.Timer(1.0, self.conn.cancel)
        timer.start()
        started = time.time()
        with self.conn.cursor() as cur:
            with self.assertRaises(psycopg.errors.QueryCanceled):
                cur.execute(slow)
            self.assertLess(time.time() - started, 20)
            cur.execute("SELECT 2")
            self.assertEqual(cur.fetchone()[0], 2)
        timer.cancel()

    def test_prepared_statements_are_reused(self):
        want = http_query("SELECT count(*) FROM songs_data WHERE popularity >= 0")["rows"][0][0]
        with self.conn.cursor() as cur:
            for _ in range(3):  # psycopg parses a named statement once, then binds it again
                cur.execute("SELECT count(*) FROM songs_data WHERE popularity >= %s", (0,), prepare=True)
                self.assertEqual(cur.fetchone()[0], want)

    def test_discard_all_and_deallocate_release_prepared_statements(self):
        """What connection pools send between two clients (pgbouncer's server_reset_query,
        DISCARD ALL) and psycopg's statement cache when it evicts: after DISCARD ALL psycopg
        prepares its statements again under the same names, which fails unless they are gone."""
        sql = "SELECT count(*) FROM songs_data WHERE popularity >= %s"
        with self.conn.cursor() as cur:
            cur.execute("SHOW application_name")
            at_start = cur.fetchone()[0]
            cur.execute("SET application_name = 'before-discard'")
            cur.execute(sql, (0,), prepare=True)
            want = cur.fetchone()[0]
            cur.execute("DISCARD ALL")
            cur.execute("SHOW application_name")
            self.assertEqual(cur.fetchone()[0], at_start, "DISCARD ALL resets the settings")
            cur.execute(sql, (0,), prepare=True)
            self.assertEqual(cur.fetchone()[0], want)
            cur.execute("DEALLOCATE ALL")
            cur.execute(sql, (0,), prepare=True)
            self.assertEqual(cur.fetchone()[0], want)
            with self.assertRaises(psycopg.errors.InvalidSqlStatementName):
                cur.execute("DEALLOCATE no_such_statement")
            cur.execute("SET application_name = 'x'")
            cur.execute("RESET ALL")
            cur.execute("SHOW application_name")
            self.assertEqual(cur.fetchone()[0], at_start)
        # psycopg's cache keeps two statements: preparing more evicts (DEALLOCATE or Close).
        self.conn.prepared_max = 2
        with self.conn.cursor() as cur:
            for rounds in range(2):
                for i in range(5):
                    cur.execute(f"SELECT count(*) + {i} FROM songs_data WHERE popularity >= %s", (0,), prepare=True)
                    self.assertEqual(cur.fetchone()[0], want + i)
        conn = psycopg.connect(dsn(), connect_timeout=10)  # a transaction block
        with self.assertRaises(psycopg.errors.ActiveSqlTransaction):
            conn.execute("DISCARD ALL")
        conn.rollback()
        conn.close()

    def test_named_cursors_stream_a_query(self):
        """psycopg's server-side cursors: DECLARE, Describe of the cursor's portal,
        FETCH FORWARD <itersize> until fewer rows come, CLOSE."""
        sql = "SELECT song_id, popularity, artist_ids FROM songs_data WHERE popularity >= {} ORDER BY song_id"
        want = http_query(sql.format(0))["rows"]
        self.assertGreater(len(want), 20)
        conn = psycopg.connect(dsn(), connect_timeout=10)  # psycopg runs it in a transaction block
        try:
            for binary in (False, True):
                with conn.cursor(name=f"songs {binary}", binary=binary) as cur:
                    cur.itersize = 7  # many FETCHes, more than psycopg's prepare threshold
                    cur.execute(sql.format("%s"), (0,))
                    self.assertEqual([d.name for d in cur.description], ["song_id", "popularity", "artist_ids"])
                    got = [list(r) for r in cur]
                self.assertEqual(got, want, f"binary={binary}")
            with conn.cursor(name="partial") as cur:
                cur.execute(sql.format(0))
                self.assertEqual([list(r) for r in cur.fetchmany(3)], want[:3])
                cur.scroll(2)  # MOVE
                self.assertEqual(list(cur.fetchone()), want[5])
                with self.assertRaises(psycopg.errors.FeatureNotSupported):
                    cur.scroll(-1)
            conn.rollback()
            with conn.cursor() as cur:
                cur.execute("DECLARE c CURSOR FOR " + sql.format(0))
                cur.execute("FETCH 2 FROM c")
                self.assertEqual(cur.statusmessage, "FETCH 2")
                self.assertEqual([list(r) for r in cur.fetchall()], want[:2])
                cur.execute("CLOSE c")
                with self.assertRaises(psycopg.errors.InvalidCursorName):
                    cur.execute("FETCH 1 FROM c")
            conn.rollback()
            with conn.cursor() as cur:
                cur.execute("DECLARE gone CURSOR FOR SELECT 1")
            conn.commit()  # a cursor without HOLD ends with its transaction
            with conn.cursor() as cur, self.assertRaises(psycopg.errors.InvalidCursorName):
                cur.execute("FETCH 1 FROM gone")
            conn.rollback()
        finally:
            conn.close()
        # Autocommit: only WITH HOLD cursors outlive their statement.
        with self.conn.cursor(name="held", withhold=True) as cur:
            cur.itersize = 50
            cur.execute(sql.format(0))
            self.assertEqual(len(list(cur)), len(want))
        with self.assertRaises(psycopg.errors.NoActiveSqlTransaction):
            with self.conn.cursor(name="not held") as cur:
                cur.execute(sql.format(0))

    def test_statement_timeout_is_57014(self):
        with self.conn.cursor() as cur:
            cur.execute("SET statement_timeout = 300")
            with self.assertRaises(psycopg.errors.QueryCanceled):
                cur.execute("SELECT count(*) FROM songs_data a, songs_data b, songs_data c, songs_data d, songs_data e "
                            "WHERE a.song_id || b.song_id || c.song_id <> d.song_id || e.song_id")


def engine_processes():
    """The query engine processes of `spotify-etl up` (ETL_QUERY_ISOLATION=process)."""
    return child_processes(PROC.pid, b"__query-engine-host")


class EngineProcess(unittest.TestCase):
    def test_an_engine_started_again_by_a_session_outlives_the_session(self):
        # The engine process is started again by whichever thread needs it next: here a
        # PostgreSQL session's, which ends with the session. The process must not end with it.
        before = engine_processes()
        self.assertEqual(len(before), 1, "one query engine process")
        os.kill(before[0], signal.SIGKILL)
        deadline = time.time() + 10
        while before[0] in engine_processes() and time.time() < deadline:
            time.sleep(0.02)
        with psycopg.connect(dsn(), connect_timeout=10, autocommit=True) as conn:
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM songs_data")
                self.assertGreater(cur.fetchone()[0], 0)
        restarted = engine_processes()
        self.assertEqual(len(restarted), 1)
        self.assertNotEqual(restarted, before)
        time.sleep(1.0)  # the session's thread has ended
        self.assertEqual(engine_processes(), restarted, "the engine process ended with the session that started it")
        self.assertGreater(http_query("SELECT count(*) FROM songs_data")["rows"][0][0], 0)
        self.assertEqual(engine_processes(), restarted)


class Fairness(unittest.TestCase):
    def test_pg_clients_are_told_apart_by_address(self):
        """The engine runs at most workers - 1 (4 - 1) queries of one client (peer address)
        at once. Three long queries from 127.0.0.1 must not make a client at 127.0.0.2
        wait: before, every PostgreSQL client was one (empty) identity."""
        probe = socket.socket()
        try:
            probe.bind(("127.0.0.2", 0))
        except OSError as e:
            probe.close()
            self.skipTest(f"no 127.0.0.2 on this machine's loopback: {e}")
        slow = ("SELECT count(*) FROM songs_data a, songs_data b, songs_data c, songs_data d, songs_data e "
                "WHERE a.song_name || b.song_name || c.song_name <> d.song_name || e.song_name")
        busy = [psycopg.connect(dsn(), connect_timeout=10, autocommit=True) for _ in range(3)]
        outcomes = []

        def run(conn):
            try:
                conn.execute("SET statement_timeout = 8000")
                conn.execute(slow)
                outcomes.append("finished")
            except psycopg.errors.QueryCanceled:
                outcomes.append("timed out")

        threads = [threading.Thread(target=run, args=(c,)) for c in busy]
        started = time.time()
        try:
            for t in threads:
                t.start()
            time.sleep(1.5)  # the three run on three of the four workers
            probe.settimeout(10)
            probe.connect(("127.0.0.1", PORTS["pg"]))
            msgs = scram_login(probe)
            sent = time.time()
            probe.sendall(message(b"Q", b"SELECT 42\0"))
            seen = msgs.until(b"Z")
            waited = time.time() - sent
            self.assertIn(b"42", b"".join(body for kind, body in seen if kind == b"D"), seen)
            self.assertLess(waited, 4.0, "the other address's query waited for the busy client's")
            self.assertLess(time.time() - started, 8.0, "answered while the three were still running")
        finally:
            probe.close()
            for t in threads:
                t.join(30)
            for c in busy:
                c.close()
        self.assertEqual(len(outcomes), 3)


def http_value(sql):
    rows = http_query(sql)["rows"]
    return rows[0][0]


class Asyncpg(unittest.TestCase):
    """asyncpg: every statement prepared and described first, every argument encoded in
    binary by the type the Describe reported, pooled connections reset on release."""

    def run_async(self, coroutine):
        return asyncio.run(asyncio.wait_for(coroutine, 60))

    async def connect(self):
        return await asyncpg.connect(host="127.0.0.1", port=PORTS["pg"], user="grafana", database="spotify",
                                     password=TOKEN, ssl=False)

    def test_arguments_are_encoded_by_the_types_their_places_give(self):
        async def go():
            conn = await self.connect()
            try:
                return [
                    await conn.fetchval("SELECT count(*) FROM songs_data WHERE popularity > $1", 50),
                    await conn.fetchval("SELECT count(*) FROM songs_data WHERE popularity BETWEEN $1 AND $2", 10, 60),
                    await conn.fetchval("SELECT count(*) FROM songs_data WHERE explicit = $1 AND popularity IN ($2, $3)",
                                        False, 96, 97),
                    await conn.fetchval("SELECT count(*) FROM songs_data WHERE added_at >= $1",
                                        datetime.datetime(2025, 6, 1)),
                    await conn.fetchval("SELECT count(*) FROM albums_data WHERE release_date < $1", datetime.date(2020, 1, 1)),
                    await conn.fetchval("SELECT count(*) FROM songs_data WHERE song_name LIKE $1", "Open%"),
                    [r["song_id"] for r in await conn.fetch(
                        "SELECT song_id FROM songs_data ORDER BY song_id LIMIT $1 OFFSET $2", 3, 1)],
                    await conn.fetchval("SELECT count(*) FROM songs_data WHERE popularity * $1 > 100", 2),
                    float(await conn.fetchval("SELECT count(*)::numeric / $1 FROM songs_data", 8)),
                    # Described with a sample 0 for $1 and run with 2 and -1: numeric all three times.
                    await conn.fetchval("SELECT round(avg(popularity), $1::int) FROM songs_data", 2),
                    await conn.fetchval("SELECT round(sum(popularity)::numeric, $1::int) FROM songs_data", -1),
                ]
            finally:
                await conn.close()
        got = self.run_async(go())
        want = [
            http_value("SELECT count(*) FROM songs_data WHERE popularity > 50"),
            http_value("SELECT count(*) FROM songs_data WHERE popularity BETWEEN 10 AND 60"),
            http_value("SELECT count(*) FROM songs_data WHERE explicit = false AND popularity IN (96, 97)"),
            http_value("SELECT count(*) FROM songs_data WHERE added_at >= TIMESTAMP '2025-06-01'"),
            http_value("SELECT count(*) FROM albums_data WHERE release_date < DATE '2020-01-01'"),
            http_value("SELECT count(*) FROM songs_data WHERE song_name LIKE 'Open%'"),
            [r[0] for r in http_query("SELECT song_id FROM songs_data ORDER BY song_id LIMIT 3 OFFSET 1")["rows"]],
            http_value("SELECT count(*) FROM songs_data WHERE popularity * 2 > 100"),
            http_value("SELECT count(*) / 8 FROM songs_data"),
            decimal.Decimal(str(http_value("SELECT round(avg(popularity)::DECIMAL(38,10), 2) FROM songs_data"))),
            decimal.Decimal(str(http_value("SELECT round(sum(popularity)::DECIMAL(38,10), -1) FROM songs_data"))),
        ]
        self.assertEqual(got, want)
        self.assertGreater(want[0], 0)
        self.assertNotEqual(want[0], want[1], "the checks must tell the parameters apart")

    def test_casts_lists_and_values_in_the_select_list(self):
        async def go():
            conn = await self.connect()
            try:
                ids = [r["song_id"] for r in await conn.fetch("SELECT song_id FROM songs_data ORDER BY song_id LIMIT 3")]
                return [
                    len(ids),
                    await conn.fetchval("SELECT count(DISTINCT song_id) FROM songs_data WHERE song_id = ANY($1)", ids),
                    await conn.fetchval("SELECT $1::int + 1", 41),
                    await conn.fetchval("SELECT $1::numeric * 2", decimal.Decimal("-12.345")),
                    await conn.fetchval("SELECT $1::float8 + $2::real", 1.5, 0.25),
                    await conn.fetchval("SELECT $1::timestamptz",
                                        datetime.datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.timezone.utc)),
                    await conn.fetchval("SELECT $1::text[]", ["a", None, 'q"\\']),
                    dict(await conn.fetchrow("SELECT $1 AS label, $2::bigint AS n", "it's", 7)),
                    list((await conn.fetchrow("WITH s AS (SELECT * FROM songs_data) SELECT count(*), max(popularity) "
                                              "FROM s WHERE popularity > $1", 0)).keys()),
                ]
            finally:
                await conn.close()
        got = self.run_async(go())
        self.assertEqual(got[1], got[0])
        self.assertEqual(got[2:], [42, decimal.Decimal("-24.690"), 1.75,
                                   datetime.datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.timezone.utc),
                                   ["a", None, 'q"\\'], {"label": "it's", "n": 7}, ["count", "max"]])

    def test_intervals_and_uuids_are_bound(self):
        # A service's "the last N days" (a timedelta), and a uuid.UUID: asyncpg sends both in binary.
        async def go():
            conn = await self.connect()
            try:
                return [
                    await conn.fetchval("SELECT count(*) FROM songs_data WHERE added_at >= TIMESTAMP '2025-07-01' - $1::interval",
                                        datetime.timedelta(days=30)),
                    await conn.fetchval("SELECT $1::interval", datetime.timedelta(days=-2, seconds=5, microseconds=7)),
                    await conn.fetchval("SELECT $1::uuid", uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")),
                ]
            finally:
                await conn.close()
        got = self.run_async(go())
        want = http_value("SELECT count(*) FROM songs_data WHERE added_at >= TIMESTAMP '2025-06-01'")
        self.assertEqual(got, [want, datetime.timedelta(days=-2, seconds=5, microseconds=7),
                               uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")])
        self.assertNotEqual(want, http_value("SELECT count(*) FROM songs_data"), "the interval must matter")
        # psycopg 3 sends a timedelta as text.
        with psycopg.connect(dsn(), connect_timeout=10) as conn:
            n = conn.execute("SELECT count(*) FROM songs_data WHERE added_at >= TIMESTAMP '2025-07-01' - %s::interval",
                             [datetime.timedelta(days=30)]).fetchone()[0]
        self.assertEqual(n, want)

    def test_a_pool_resets_the_connections_it_takes_back(self):
        # On release asyncpg runs SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL.
        async def go():
            pool = await asyncpg.create_pool(host="127.0.0.1", port=PORTS["pg"], user="grafana", database="spotify",
                                             password=TOKEN, ssl=False, min_size=1, max_size=2)
            try:
                return await asyncio.gather(*[pool.fetchval("SELECT count(*) FROM artists_data WHERE artist_name <> $1", "x")
                                              for _ in range(6)])
            finally:
                await pool.close()
        self.assertEqual(self.run_async(go()), [http_value("SELECT count(*) FROM artists_data WHERE artist_name <> 'x'")] * 6)

    def test_refused_and_bad_arguments_are_sqlstates(self):
        async def go():
            conn = await self.connect()
            try:
                states = []
                for sql, args in [("DROP TABLE songs_data", ()), ("SELECT count(*) FROM read_csv($1)", ("/etc/passwd",)),
                                  ("SELECT current_setting('no_such_setting')", ())]:
                    try:
                        await conn.fetch(sql, *args)
                        states.append("ok")
                    except asyncpg.PostgresError as e:
                        states.append(e.sqlstate)
                states.append(await conn.fetchval("SELECT 1"))
                return states
            finally:
                await conn.close()
        self.assertEqual(self.run_async(go()), ["42501", "42501", "42704", 1])

    def test_arrays_of_types_asyncpg_looks_up_decode(self):
        # int8[], int4[], bool[] and float8[] have no codec of asyncpg's own: it looks them up
        # with its introspection query (over pg_type), which the endpoint answers.
        async def go():
            conn = await self.connect()
            try:
                return [
                    await conn.fetchval("SELECT array_agg(popularity ORDER BY popularity) FILTER (WHERE popularity > 95) "
                                        "FROM songs_data"),
                    tuple(await conn.fetchrow("SELECT [1, 2]::bigint[], [true, NULL]::boolean[], [1.5]::double[], "
                                              "$1::int8[]", [7, 8])),
                    await conn.fetchval("SELECT current_setting('jit', true)"),
                ]
            finally:
                await conn.close()
        got = self.run_async(go())
        want_popularity = http_value("SELECT array_agg(popularity ORDER BY popularity) FILTER (WHERE popularity > 95) "
                                     "FROM songs_data")
        self.assertEqual(got, [want_popularity, ([1, 2], [True, None], [1.5], [7, 8]), None])
        self.assertGreater(len(want_popularity), 1)


class Psycopg2(unittest.TestCase):
    """psycopg2 (Superset's, Airflow's and dbt's driver): parameters interpolated by the
    client, a transaction opened on the first statement, named cursors as DECLARE/FETCH."""

    def setUp(self):
        self.conn = psycopg2.connect(dsn(), connect_timeout=10)

    def tearDown(self):
        self.conn.close()

    def test_queries_with_client_side_parameters_match_http(self):
        cur = self.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
        cur.execute("SELECT count(*) AS n FROM songs_data WHERE popularity > %s AND song_name <> %s", (50, "it's"))
        self.assertEqual(cur.fetchone()["n"], http_value("SELECT count(*) FROM songs_data WHERE popularity > 50"))
        cur.execute("SELECT song_id FROM songs_data WHERE song_id = ANY(%s) ORDER BY 1", (["x", "y"],))
        self.assertEqual(cur.fetchall(), [])
        self.conn.rollback()
        self.conn.set_session(readonly=True, autocommit=False)
        cur.execute("SELECT 1 AS one")
        self.assertEqual(cur.fetchone(), {"one": 1})
        self.conn.commit()

    def test_columns_are_named_as_postgresql_names_them(self):
        # DuckDB (and so POST /v1/query) says count_star() and (popularity + 1); PostgreSQL's clients expect its names.
        sql = ("SELECT count(*), max(popularity), popularity + 1, CASE WHEN max(popularity) > 50 THEN 1 END, "
               "song_name AS Title FROM songs_data GROUP BY popularity, song_name ORDER BY 1 DESC, 5, 2 LIMIT 1")
        cur = self.conn.cursor()
        cur.execute(sql)
        self.assertEqual([d.name for d in cur.description], ["count", "max", "?column?", "case", "title"])
        self.assertEqual(list(cur.fetchone()), http_query(sql)["rows"][0])
        self.assertEqual(http_query(sql)["columns"][0]["name"], "count_star()")
        # Casts, typed literals, scalar subqueries and a CASE's ELSE, by PostgreSQL's rules (DuckDB
        # says CAST(popularity AS DOUBLE), CAST(1 AS INTEGER), (SELECT max(popularity) FROM ...)).
        cur.execute("SELECT CAST(popularity AS float), 1::int, date '2024-01-01', (SELECT max(popularity) FROM songs_data), "
                    "CASE WHEN popularity > 50 THEN 0 ELSE popularity END, count(*)::float FROM songs_data "
                    "GROUP BY popularity LIMIT 1")
        self.assertEqual([d.name for d in cur.description], ["popularity", "int4", "date", "max", "popularity", "count"])
        # Aliases without AS, after a cast too (they were taken for part of the type: "extract", "int y").
        cur.execute("SELECT extract(year from added_at)::int yr, popularity::bigint Pop, 1::int y, count(*) n "
                    "FROM songs_data GROUP BY 1, 2 LIMIT 1")
        self.assertEqual([d.name for d in cur.description], ["yr", "pop", "y", "n"])
        self.conn.rollback()

    def test_a_named_cursor_streams_the_whole_query(self):
        cur = self.conn.cursor(name="songs")
        cur.itersize = 7
        cur.execute("SELECT song_id FROM songs_data ORDER BY song_id")
        got = [r[0] for r in cur]
        cur.close()
        self.conn.commit()
        self.assertEqual(got, [r[0] for r in http_query("SELECT song_id FROM songs_data ORDER BY song_id")["rows"]])
        self.assertGreater(len(got), 7)

    def test_a_refused_statement_is_an_error_and_the_connection_goes_on(self):
        cur = self.conn.cursor()
        with self.assertRaises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("DELETE FROM songs_data")
        self.conn.rollback()
        cur.execute("SELECT count(*) FROM artists_data")
        self.assertEqual(cur.fetchone()[0], http_value("SELECT count(*) FROM artists_data"))


class NodeDrivers(unittest.TestCase):
    """node-postgres and postgres.js (tests/pgwire/node/check.cjs), from the npm registry
    by install-node-clients.sh."""

    def test_parameters_prepared_statements_and_described_types(self):
        modules = os.environ.get("ETL_NODE_PGWIRE_DIR", "")
        if not modules or not os.path.isdir(os.path.join(modules, "node_modules")):
            self.skipTest("the Node.js drivers were not installed (no node or npm)")
        ids = [r[0] for r in http_query("SELECT song_id FROM songs_data ORDER BY song_id LIMIT 4")["rows"]]
        config = {"host": "127.0.0.1", "port": PORTS["pg"], "user": "grafana", "password": TOKEN,
                  "database": "spotify", "ids": ids}
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node", "check.cjs")
        r = subprocess.run(["node", script], input=json.dumps(config), capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, NODE_PATH=os.path.join(modules, "node_modules")))
        self.assertEqual(r.returncode, 0, r.stderr)
        got = json.loads(r.stdout)
        ordered = "SELECT song_id FROM songs_data WHERE popularity >= {} ORDER BY song_id LIMIT {}"
        self.assertEqual(got, {
            "pg_typed": http_value("SELECT count(*) FROM songs_data WHERE popularity > 50 AND added_at >= TIMESTAMP '2025-01-01'"),
            "pg_named": [[r[0] for r in http_query(ordered.format(90, 3))["rows"]],
                         [r[0] for r in http_query(ordered.format(0, 2))["rows"]]],
            "pg_bad_number": "22P02",
            "pjs_bare": {"s": "a", "x": 42},
            "pjs_typed": http_value("SELECT count(*) FROM songs_data WHERE popularity > 50 AND explicit = false"),
            "pjs_any": http_value("SELECT count(*) FROM songs_data WHERE song_id IN ({})".format(
                ", ".join("'" + i + "'" for i in ids))),
            "pjs_date": http_value("SELECT count(*) FROM albums_data WHERE release_date < DATE '2020-01-01'"),
        })
        self.assertGreater(got["pjs_any"], 0)


class SqlAlchemyInspector(unittest.TestCase):
    def test_catalog_reads_as_in_postgresql(self):
        # What SQL tools' own inspectors ask beyond SQLAlchemy's: information_schema.columns'
        # facets, and a table named by a cast to regclass (which matched nothing before).
        want = [c["name"] for c in http_table("songs_data")["columns"]] + ["dt"]
        with psycopg.connect(dsn(), connect_timeout=10, autocommit=True) as conn:
            facets = {r[0]: r[1:] for r in conn.execute(
                "SELECT column_name, data_type, numeric_precision, numeric_scale, datetime_precision "
                "FROM information_schema.columns WHERE table_name = 'songs_data' ORDER BY ordinal_position")}
            self.assertEqual(list(facets), want)
            self.assertEqual(facets["popularity"], ("integer", 32, 0, None))
            self.assertEqual(facets["duration_ms"], ("bigint", 64, 0, None))
            self.assertEqual(facets["added_at"], ("timestamp without time zone", None, None, 6))
            names = [r[0] for r in conn.execute("SELECT attname FROM pg_attribute WHERE attrelid = "
                                                "'spotify.songs_data'::regclass AND attnum > 0 ORDER BY attnum")]
            self.assertEqual(names, want)

    def test_lists_tables_and_columns(self):
        engine = sqlalchemy.create_engine(
            f"postgresql+psycopg://grafana:{TOKEN}@127.0.0.1:{PORTS['pg']}/spotify")
        try:
            inspector = sqlalchemy.inspect(engine)
            self.assertEqual(inspector.default_schema_name, "spotify")
            names = inspector.get_table_names()
            self.assertEqual(sorted(names), ["albums_data", "artists_data", "songs_data"])
            columns = inspector.get_columns("songs_data")
            want = [c["name"] for c in http_table("songs_data")["columns"]] + ["dt"]
            self.assertEqual([c["name"] for c in columns], want)
            by_name = {c["name"]: c for c in columns}
            self.assertIsInstance(by_name["duration_ms"]["type"], sqlalchemy.BIGINT)
            self.assertIsInstance(by_name["artist_ids"]["type"], sqlalchemy.ARRAY)
            self.assertTrue(by_name["song_id"]["nullable"])
            with engine.connect() as conn:
                n = conn.execute(sqlalchemy.text("SELECT count(*) FROM songs_data WHERE explicit = :e"),
                                 {"e": False}).scalar()
            self.assertEqual(n, http_query("SELECT count(*) FROM songs_data WHERE explicit = false")["rows"][0][0])
            # stream_results (pandas' chunked reads do the same): a psycopg server-side cursor.
            want = http_query("SELECT song_id FROM songs_data ORDER BY song_id")["rows"]
            with engine.connect().execution_options(stream_results=True, max_row_buffer=5) as conn:
                result = conn.execute(sqlalchemy.text("SELECT song_id FROM songs_data ORDER BY song_id"))
                chunks = [list(map(list, p)) for p in result.partitions(4)]
            self.assertGreater(len(chunks), 1)
            self.assertEqual([row for chunk in chunks for row in chunk], want)
        finally:
            engine.dispose()

    def test_superset_table_metadata_with_both_drivers(self):
        # What Superset's SQL Lab shows for a table: schemas, tables, columns, keys, indexes.
        # postgresql:// is SQLAlchemy's psycopg2 dialect (Superset's default), which on connect
        # looks up hstore's oid over pg_type; get_schema_names filters with NOT LIKE ... ESCAPE.
        for driver in ("psycopg2", "psycopg"):
            with self.subTest(driver=driver):
                engine = sqlalchemy.create_engine(
                    f"postgresql+{driver}://grafana:{TOKEN}@127.0.0.1:{PORTS['pg']}/spotify")
                try:
                    inspector = sqlalchemy.inspect(engine)
                    self.assertEqual(inspector.get_schema_names(), ["spotify"])
                    self.assertEqual(sorted(inspector.get_table_names()), ["albums_data", "artists_data", "songs_data"])
                    self.assertEqual(inspector.get_view_names(), [])
                    self.assertEqual(len(inspector.get_columns("albums_data")), len(http_table("albums_data")["columns"]) + 1)
                    self.assertEqual(inspector.get_pk_constraint("songs_data")["constrained_columns"], [])
                    self.assertEqual(inspector.get_foreign_keys("songs_data"), [])
                    self.assertEqual(inspector.get_indexes("songs_data"), [])
                    self.assertEqual(inspector.get_unique_constraints("songs_data"), [])
                    self.assertEqual(inspector.get_check_constraints("songs_data"), [])
                    self.assertEqual(inspector.get_table_comment("songs_data"), {"text": None})
                    with self.assertRaises(sqlalchemy.exc.NoSuchTableError):
                        inspector.get_foreign_keys("no_such_table")
                finally:
                    engine.dispose()


class PgJdbcMetadata(unittest.TestCase):
    """pgjdbc's DatabaseMetaData, which JDBC tools browse a database with (DBeaver,
    DataGrip, Metabase's JDBC sync): jdbc/PgJdbcMetadata.java prints each method's rows."""

    @classmethod
    def setUpClass(cls):
        jar = os.environ.get("ETL_PGJDBC_JAR", "")
        if not jar or not os.path.isfile(jar):
            raise unittest.SkipTest("pgjdbc was not fetched (no java or mvn; tests/pgwire/fetch-pgjdbc.sh)")
        program = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jdbc", "PgJdbcMetadata.java")
        r = subprocess.run(["java", "-cp", jar, program, str(PORTS["pg"]), TOKEN],
                           capture_output=True, text=True, timeout=180)
        if r.returncode != 0:
            raise AssertionError("PgJdbcMetadata.java failed: " + r.stdout[-2000:] + r.stderr[-3000:])
        cls.output = r.stdout
        cls.rows, cls.counts, cls.failures = {}, {}, {}
        for line in r.stdout.splitlines():
            fields = line.split("\t")
            if fields[0] == "END":
                cls.counts[fields[1]] = int(fields[2])
            elif fields[0] == "FAIL":
                cls.failures[fields[1]] = fields[2]
            else:
                cls.rows.setdefault(fields[0], []).append(fields[1:])

    def method(self, name):
        self.assertNotIn(name, self.failures, f"{name}: {self.failures.get(name)}")
        self.assertIn(name, self.counts, self.output)
        rows = self.rows.get(name, [])
        self.assertEqual(len(rows), self.counts[name])
        return rows

    def test_every_method_a_browser_calls_answers(self):
        self.assertEqual(self.failures, {}, self.output)

    def test_schemas_and_tables_are_the_lakes(self):
        schema, max_name, user = self.rows["schema"][0]
        self.assertEqual((schema, max_name, user), ("spotify", "63", "metabase"))
        self.assertEqual(self.method("getCatalogs"), [["spotify"]])
        self.assertEqual(self.method("getSchemas"), [["pg_catalog", "spotify"], ["spotify", "spotify"]])
        self.assertEqual(self.method("getSchemasLike"), [["spotify"]])
        names = sorted(t["name"] for t in http_query_tables())
        self.assertEqual(self.method("getTables"), [["spotify", n, "TABLE", "null"] for n in names])
        self.assertEqual(self.method("getTablesAll"), [["spotify", n, "TABLE"] for n in names])
        self.assertEqual(self.method("getTablesViews"), [])
        self.assertEqual(self.method("getTablesPattern"), [["songs_data"]])

    def test_columns_have_the_tables_types_in_order(self):
        jdbc_types = {"VARCHAR": ("text", "12"), "BIGINT": ("int8", "-5"), "INTEGER": ("int4", "4"),
                      "BOOLEAN": ("bool", "-7"), "DATE": ("date", "91"), "TIMESTAMP": ("timestamp", "93"),
                      "DOUBLE": ("float8", "8"), "VARCHAR[]": ("_text", "2003")}
        want = []
        for name in sorted(t["name"] for t in http_query_tables()):
            table = http_table(name)
            columns = [(c["name"], c["type"]) for c in table["columns"]] + [(k, "VARCHAR") for k in table["partition_keys"]]
            for i, (column, engine_type) in enumerate(columns, start=1):
                want.append([name, column, *jdbc_types[engine_type], str(i), "YES", "NO"])
        self.assertEqual(self.method("getColumns"), want)
        popularity = [c["name"] for c in http_table("songs_data")["columns"]].index("popularity") + 1
        self.assertEqual(self.method("getColumnsPattern"), [["popularity", str(popularity)]])

    def test_no_keys_indexes_or_functions_and_only_select_is_granted(self):
        for name in ("getPrimaryKeys", "getImportedKeys", "getExportedKeys", "getIndexInfo", "getFunctions",
                     "getProcedures", "getUDTs"):
            self.assertEqual(self.method(name), [], name)
        # The endpoint is read-only: the user may SELECT, and nothing else (a NULL ACL would
        # have told pgjdbc the owner may also INSERT, UPDATE, DELETE ...).
        self.assertEqual(self.method("getTablePrivileges"), [["metabase", "SELECT"]])
        # No column has grants of its own (attacl NULL, as in PostgreSQL); pgjdbc then lists
        # the owner's defaults for a column, here as against PostgreSQL itself.
        self.assertIn(["SELECT"], self.method("getColumnPrivileges"))

    def test_metabases_sync_forms_list_the_tables_it_may_read(self):
        names = sorted(t["name"] for t in http_query_tables())
        self.assertEqual(self.method("metabaseTables"), [["spotify", n, "TABLE", "null"] for n in names])
        self.assertEqual(self.method("metabasePrivileges"), [["spotify", n, "t", "f"] for n in names])

    def test_type_info_lists_the_types_the_endpoint_sends(self):
        types = {row[0]: row[1] for row in self.method("getTypeInfo")}
        for name, sql_type in (("bool", "-7"), ("int8", "-5"), ("int4", "4"), ("text", "12"), ("float8", "8"),
                               ("date", "91"), ("timestamp", "93"), ("_text", "2003")):
            self.assertEqual(types.get(name), sql_type, name)
        self.assertEqual(self.method("getClientInfoProperties"), [["ApplicationName"]])


def raw_startup(sock):
    body = struct.pack("!i", 196608) + b"user\0x\0database\0spotify\0\0"
    sock.sendall(struct.pack("!i", len(body) + 4) + body)


def read_all(sock, timeout=10):
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data, True
            data += chunk
    except socket.timeout:
        return data, False


def message(kind, body):
    return kind + struct.pack("!i", len(body) + 4) + body


class Messages:
    """Backend messages read off a socket."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def next(self):
        while len(self.buf) < 5 or len(self.buf) < 1 + struct.unpack("!i", self.buf[1:5])[0]:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the server closed the connection")
            self.buf += chunk
        n = 1 + struct.unpack("!i", self.buf[1:5])[0]
        kind, body, self.buf = self.buf[:1], self.buf[5:n], self.buf[n:]
        return kind, body

    def until(self, kind):
        seen = []
        while True:
            k, body = self.next()
            seen.append((k, body))
            if k == kind:
                return seen


def scram_login(sock):
    """SCRAM-SHA-256 written from RFC 5802 with hashlib: a second, independent client."""
    import base64, hashlib, hmac
    raw_startup(sock)
    msgs = Messages(sock)
    kind, body = msgs.next()
    assert kind == b"R" and struct.unpack("!i", body[:4])[0] == 10, (kind, body)
    nonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = f"n=,r={nonce}"
    first = ("n,," + first_bare).encode()
    sock.sendall(message(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", len(first)) + first))
    kind, body = msgs.next()
    server_first = body[4:].decode()
    attrs = dict(part.split("=", 1) for part in server_first.split(","))
    salted = hashlib.pbkdf2_hmac("sha256", TOKEN.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    without_proof = f"c=biws,r={attrs['r']}"
    auth = f"{first_bare},{server_first},{without_proof}".encode()
    signature = hmac.new(hashlib.sha256(client_key).digest(), auth, "sha256").digest()
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature))).decode()
    sock.sendall(message(b"p", f"{without_proof},p={proof}".encode()))
    kind, body = msgs.next()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    assert body[4:].decode() == "v=" + base64.b64encode(hmac.new(server_key, auth, "sha256").digest()).decode()
    msgs.until(b"Z")
    return msgs


class ExtendedProtocol(unittest.TestCase):
    def test_execute_with_max_rows_suspends_the_portal(self):
        want = http_query("SELECT song_id FROM songs_data ORDER BY song_id LIMIT 5")["rows"]
        with socket.create_connection(("127.0.0.1", PORTS["pg"]), timeout=10) as s:
            msgs = scram_login(s)
            s.sendall(message(b"P", b"\0SELECT song_id FROM songs_data ORDER BY song_id LIMIT $1\0" +
                              struct.pack("!hi", 1, 20)) +
                      message(b"B", b"\0\0" + struct.pack("!hhi", 0, 1, 1) + b"5" + struct.pack("!h", 0)) +
                      message(b"D", b"P\0") +
                      message(b"E", b"\0" + struct.pack("!i", 2)) +
                      message(b"E", b"\0" + struct.pack("!i", 2)) +
                      message(b"E", b"\0" + struct.pack("!i", 0)) +
                      message(b"S", b""))
            seen = msgs.until(b"Z")
        kinds = b"".join(k for k, _ in seen)
        self.assertEqual(kinds, b"12TDDsDDsDCZ")
        rows = [[body[6:].decode()] for k, body in seen if k == b"D"]
        self.assertEqual(rows, want)
        self.assertEqual(seen[-2][1], b"SELECT 5\0")

    def test_error_skips_to_sync_and_the_session_goes_on(self):
        with socket.create_connection(("127.0.0.1", PORTS["pg"]), timeout=10) as s:
            msgs = scram_login(s)
            s.sendall(message(b"P", b"\0DROP TABLE songs_data\0\0\0") + message(b"B", b"\0\0\0\0\0\0\0\0") +
                      message(b"E", b"\0\0\0\0\0") + message(b"S", b"") + message(b"Q", b"SELECT 7\0"))
            first = msgs.until(b"Z")
            second = msgs.until(b"Z")
        self.assertEqual([k for k, _ in first], [b"1", b"2", b"E", b"Z"])
        self.assertIn(b"42501", first[2][1])
        self.assertIn((b"D", struct.pack("!hi", 1, 1) + b"7"), second)


    def test_result_formats_that_do_not_fit_are_clean_errors(self):
        with socket.create_connection(("127.0.0.1", PORTS["pg"]), timeout=10) as s:
            msgs = scram_login(s)
            two_columns = message(b"P", b"\0SELECT 1 AS a, 2 AS b\0\0\0")
            # Three format codes for two columns, then a format code that does not exist.
            s.sendall(two_columns + message(b"B", b"\0\0\0\0\0\0" + struct.pack("!hhhh", 3, 1, 1, 1)) +
                      message(b"D", b"P\0") + message(b"E", b"\0\0\0\0\0") + message(b"S", b""))
            first = msgs.until(b"Z")
            s.sendall(two_columns + message(b"B", b"\0\0\0\0\0\0" + struct.pack("!hh", 1, 7)) +
                      message(b"S", b""))
            second = msgs.until(b"Z")
            # Binary results of both columns: int4 big-endian, and the description says format 1.
            s.sendall(two_columns + message(b"B", b"\0\0\0\0\0\0" + struct.pack("!hh", 1, 1)) +
                      message(b"D", b"P\0") + message(b"E", b"\0\0\0\0\0") + message(b"S", b""))
            third = msgs.until(b"Z")
        self.assertIn(b"08P01", dict(first)[b"E"])
        self.assertIn(b"has 3 result formats but query has 2 columns", dict(first)[b"E"])
        self.assertIn(b"22023", dict(second)[b"E"])
        kinds = dict(third)
        self.assertEqual(kinds[b"T"][-2:], struct.pack("!h", 1))
        self.assertEqual(kinds[b"D"], struct.pack("!hi", 2, 4) + struct.pack("!i", 1) + struct.pack("!i", 4) +
                         struct.pack("!i", 2))


class GrafanaDriver(unittest.TestCase):
    """pgx v5, the Go driver of Grafana's PostgreSQL data source (tests/pgwire/grafana_driver),
    connecting with the provisioned data source's settings and running every data panel
    of deploy/grafana in both of pgx's query modes (simple protocol; extended protocol
    with binary results, pgx's default)."""

    @classmethod
    def setUpClass(cls):
        cls.driver = os.environ.get("ETL_GRAFANA_DRIVER", "")
        if not cls.driver or not os.access(cls.driver, os.X_OK):
            raise unittest.SkipTest("the pgx driver program was not built (no Go toolchain)")
        source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
        with open(os.path.join(source, "deploy", "grafana", "spotify-etl-dashboard.json"), encoding="utf-8") as f:
            cls.dashboard = json.load(f)
        with open(os.path.join(source, "deploy", "grafana", "provisioning", "datasources", "spotify-etl.yaml"),
                  encoding="utf-8") as f:
            provisioning = f.read()
        setting = lambda name: next(line.split(":", 1)[1].split("#")[0].strip()
                                    for line in provisioning.splitlines() if line.strip().startswith(name + ":"))
        cls.dsn = (f"host=127.0.0.1 port={PORTS['pg']} user={setting('user')} dbname={setting('database')} "
                   f"sslmode={setting('sslmode')} password={TOKEN}")

    def run_driver(self, queries, args=None):
        request = {"dsn": self.dsn, "queries": queries}
        if args is not None:
            request["args"] = args
        r = subprocess.run([self.driver], input=json.dumps(request),
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_every_data_panel_answers_the_same_in_both_modes_and_as_http(self):
        panels = [(p["title"], t["rawSql"]) for p in self.dashboard["panels"]
                  if p.get("datasource", {}).get("type") == "grafana-postgresql-datasource" for t in p["targets"]]
        self.assertGreaterEqual(len(panels), 3)
        # Grafana's own variables: the dashboard's range, here wide enough for any data.
        queries = [sql.replace("${__from:date:YYYY-MM-DD}", "1900-01-01").replace("${__to:date:YYYY-MM-DD}", "2999-12-31")
                   for _, sql in panels]
        out = self.run_driver(queries)
        for (title, _), sql, simple, extended in zip(panels, queries, out["simple"], out["extended"]):
            with self.subTest(panel=title):
                self.assertNotIn("error", simple)
                self.assertNotIn("error", extended)
                self.assertEqual(extended, simple)
                want = http_query(sql)
                self.assertTrue(want["rows"], title)
                self.assertEqual([c["name"] for c in simple["columns"]], [c["name"] for c in want["columns"]])
                self.assertEqual(len(simple["rows"]), len(want["rows"]))
                for got_row, want_row in zip(simple["rows"], want["rows"]):
                    for got, wanted in zip(got_row, want_row):
                        if isinstance(wanted, float) or isinstance(got, float):
                            self.assertAlmostEqual(float(got), float(wanted), places=6)
                        else:
                            self.assertEqual(got, wanted)
                # A time series panel needs its time column as a time type.
                if simple["columns"][0]["name"] == "time":
                    self.assertEqual(simple["columns"][0]["oid"], 1114)

    def test_query_builder_finds_the_version_tables_and_columns(self):
        # What Grafana's query builder sends before a query is written (its postgresMetaQuery.ts):
        # the version probe, the table list and a table's columns, both over the search_path.
        search_path = (
            "quote_ident(table_schema) IN ( SELECT CASE WHEN trim(s[i]) = '\"$user\"' THEN user ELSE trim(s[i]) END "
            "FROM generate_series( array_lower(string_to_array(current_setting('search_path'),','),1), "
            "array_upper(string_to_array(current_setting('search_path'),','),1) ) as i, "
            "string_to_array(current_setting('search_path'),',') s )")
        tables = (f"SELECT CASE WHEN {search_path} THEN quote_ident(table_name) "
                  "ELSE quote_ident(table_schema) || '.' || quote_ident(table_name) END AS \"table\" "
                  "FROM information_schema.tables WHERE quote_ident(table_schema) NOT IN ('information_schema', "
                  "'pg_catalog', '_timescaledb_cache') "
                  f"ORDER BY CASE WHEN {search_path} THEN 0 ELSE 1 END, 1")

        def columns(table):
            literal = "'" + table.replace("'", "''") + "'"
            return ("SELECT quote_ident(column_name) AS \"column\", data_type AS \"type\" FROM information_schema.columns "
                    f"WHERE CASE WHEN array_length(parse_ident({literal}),1) = 2 "
                    f"THEN quote_ident(table_schema) = (parse_ident({literal}))[1] "
                    f"AND quote_ident(table_name) = (parse_ident({literal}))[2] "
                    f"ELSE quote_ident(table_name) = {literal} AND {search_path} END")

        queries = ["SELECT current_setting('server_version_num')::int/100 as version", tables,
                   columns("songs_data"), columns("spotify.albums_data"), columns("no_such_table")]
        out = self.run_driver(queries)
        song_columns = [c["name"] for c in http_table("songs_data")["columns"]] + ["dt"]
        for mode in ("simple", "extended"):
            with self.subTest(mode=mode):
                version, listed, songs, albums, none = out[mode]
                self.assertEqual(version["rows"], [[1500]])
                self.assertEqual(listed["rows"], [["albums_data"], ["artists_data"], ["songs_data"]])
                # PostgreSQL quotes a keyword it reserves: "position".
                self.assertEqual([r[0] for r in songs["rows"]],
                                 ['"position"' if c == "position" else c for c in song_columns])
                self.assertIn(["duration_ms", "bigint"], songs["rows"])
                self.assertEqual(len(albums["rows"]), len(http_table("albums_data")["columns"]) + 1)
                self.assertNotIn("error", none)
                self.assertFalse(none.get("rows"))

    def test_every_type_decodes_the_same_from_binary_and_text(self):
        out = self.run_driver([EVERY_TYPE_SQL])
        simple, extended = out["simple"][0], out["extended"][0]
        self.assertNotIn("error", simple)
        self.assertEqual(extended, simple)
        row = dict(zip([c["name"] for c in simple["columns"]], simple["rows"][0]))
        self.assertEqual(row["iv"], {"Microseconds": 7200000000, "Days": 1, "Months": 12, "Valid": True})
        self.assertEqual(row["ts"], "2024-01-01T10:11:12.5Z")
        self.assertEqual(row["texts"], ["a", None, 'b"c'])
        self.assertIsNone(row["nothing"])


    def test_go_services_pass_typed_arguments(self):
        # A Go service's pgx call: Go ints, floats, bools, times and []string for $1, $2 ...
        # In the extended mode pgx encodes each by the type the Describe reported.
        ids = [r[0] for r in http_query("SELECT song_id FROM songs_data ORDER BY 1 LIMIT 3")["rows"]]
        cases = [
            ("SELECT count(*) AS n FROM songs_data WHERE popularity > $1 AND explicit = $2", [50, False],
             "SELECT count(*) AS n FROM songs_data WHERE popularity > 50 AND explicit = false"),
            ("SELECT count(*) AS n FROM songs_data WHERE added_at >= $1", [{"time": "2025-06-01T00:00:00Z"}],
             "SELECT count(*) AS n FROM songs_data WHERE added_at >= TIMESTAMP '2025-06-01'"),
            ("SELECT song_id FROM songs_data ORDER BY song_id LIMIT $1", [2],
             "SELECT song_id FROM songs_data ORDER BY song_id LIMIT 2"),
            ("SELECT $1::float8 * 2 AS x", [1.25], "SELECT 2.5::float8 AS x"),
            ("SELECT count(*) AS n FROM songs_data WHERE song_id = ANY($1)", [ids],
             "SELECT count(*) AS n FROM songs_data WHERE song_id IN ({})".format(", ".join(f"'{i}'" for i in ids))),
        ]
        out = self.run_driver([c[0] for c in cases], [c[1] for c in cases])
        for i, (sql, _, http_sql) in enumerate(cases):
            self.assertEqual(out["extended"][i].get("rows"), http_query(http_sql)["rows"], sql)
            # pgx's simple mode writes the []string as '{...}', PostgreSQL's array literal.
            self.assertEqual(out["simple"][i].get("rows"), http_query(http_sql)["rows"], sql)
        self.assertEqual(out["extended"][4]["rows"], [[3]])
        self.assertEqual(out["simple"][4]["rows"], [[3]])

class HostileClients(unittest.TestCase):
    def connect(self):
        return socket.create_connection(("127.0.0.1", PORTS["pg"]), timeout=10)

    def test_huge_startup_length_is_refused(self):
        with self.connect() as s:
            s.sendall(struct.pack("!i", 0x7FFFFFFF) + b"x" * 16)
            data, closed = read_all(s)
        self.assertTrue(closed)
        self.assertIn(b"08P01", data)

    def test_oversized_message_gets_54000_and_close(self):
        with self.connect() as s:
            s.sendall(struct.pack("!i", 8) + struct.pack("!i", 80877103))  # SSLRequest
            self.assertEqual(s.recv(1), b"N")
            raw_startup(s)
            time.sleep(0.3)
            s.recv(65536)  # the SASL request
            s.sendall(b"p" + struct.pack("!i", 500_000_000))
            data, closed = read_all(s)
        self.assertTrue(closed)
        self.assertIn(b"54000", data)

    def test_silent_client_is_dropped_after_the_read_timeout(self):
        with self.connect() as s:
            s.sendall(struct.pack("!i", 100))  # a startup packet that never comes
            data, closed = read_all(s, timeout=15)
        self.assertTrue(closed, "the server must not wait forever")

    def test_connections_over_the_limit_get_53300(self):
        # The held connections are authenticated sessions, which stay open until the idle timeout;
        # bare sockets would be dropped at the 2 s read timeout, racing a slow machine.
        deadline = time.monotonic() + 10
        while open_pg_connections() > 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # the sessions of earlier tests have ended
        held = [psycopg.connect(dsn(), connect_timeout=10) for _ in range(6)]
        try:
            self.assertEqual(open_pg_connections(), 6)
            with self.connect() as extra:
                data, closed = read_all(extra)
            self.assertTrue(closed)
            self.assertIn(b"53300", data)
        finally:
            for conn in held:
                conn.close()
        deadline = time.monotonic() + 10
        while open_pg_connections() > 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # a closed session frees its slot
        with psycopg.connect(dsn(), connect_timeout=10) as conn:
            self.assertEqual(conn.execute("SELECT 1").fetchone()[0], 1)

if __name__ == "__main__":
    unittest.main()
