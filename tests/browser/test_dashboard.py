"""The cataloger's web dashboard in a real browser (Debian's chromium, driven by
Playwright) against a running `spotify-etl demo`: page load without console
errors under its CSP, every panel equal to /v1/query for the same SQL, the SQL
console (grid, chart, CSV download), the token prompt. Screenshots go to
$ETL_BROWSER_ARTIFACTS."""
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from playwright.sync_api import sync_playwright

from demo_process import Demo

BIN_DIR = os.environ.get("ETL_BIN_DIR", "build/bin")
ARTIFACTS = os.environ.get("ETL_BROWSER_ARTIFACTS", "build/browser-artifacts")
SOURCE_DIR = os.environ.get("ETL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
CHROMIUM = os.environ.get("ETL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
NUMERIC = re.compile(r"^(TINYINT|SMALLINT|INTEGER|INT|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|REAL|DOUBLE|DECIMAL.*)$", re.I)
TOKEN = "browser-test-token"
READ_TOKEN = "browser-test-read-only-token"


def js_string(v):
    """String(v) as the page's JavaScript writes it."""
    if v is None:
        return "(null)"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (list, dict)):
        return json.dumps(v, separators=(",", ":"))
    return str(v)


def cell_text(v):
    if v is None:
        return ""
    return js_string(v)


def chart_number(v):
    """A cell as charts.js plots it: a gap (None) for NULL, "NaN" and the infinities."""
    try:
        n = float(v)
    except (TypeError, ValueError):
        return None
    return n if math.isfinite(n) else None


def expected_series(page, view):
    """What charts.js seriesOf() must have drawn for this result."""
    names = [c["name"] for c in page["columns"]]
    xi = names.index(view["x"]) if view["x"] else 0
    if view["y"]:
        yis = [names.index(n) for n in view["y"]]
    else:
        yis = [i for i, c in enumerate(page["columns"]) if i != xi and NUMERIC.match(c["type"])]
    labels = [js_string(r[xi]) for r in page["rows"]]
    series = [{"label": names[i], "data": [chart_number(r[i]) for r in page["rows"]]} for i in yis]
    return labels, series


def launch(playwright):
    profile = tempfile.mkdtemp(prefix="spotify-etl-chromium-")
    ctx = playwright.chromium.launch_persistent_context(
        profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, accept_downloads=True,
        viewport={"width": 1400, "height": 1000}, service_workers="block")
    return ctx, profile


class Recorder:
    """Console errors, page errors and API requests of one page."""

    def __init__(self, page):
        self.errors, self.requests = [], []
        page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("request", lambda r: self.requests.append(r))


class BrowserCase(unittest.TestCase):
    token = ""
    extra_env = {}

    @classmethod
    def setUpClass(cls):
        os.makedirs(ARTIFACTS, exist_ok=True)
        cls.demo = Demo(BIN_DIR, token=cls.token, extra_env=cls.extra_env)
        try:
            cls.pw = sync_playwright().start()
            cls.ctx, cls.profile = launch(cls.pw)
        except Exception:
            cls.demo.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.ctx.close()
        cls.pw.stop()
        shutil.rmtree(cls.profile, ignore_errors=True)
        cls.demo.stop()

    def open_dashboard(self, path="/ui/", wait_loaded=True):
        page = self.ctx.new_page()
        self.addCleanup(page.close)
        rec = Recorder(page)
        response = page.goto(self.demo.base + path)
        if wait_loaded:
            page.wait_for_selector("body[data-loaded]", state="attached", timeout=90000)
        return page, rec, response

    def shot(self, page, name):
        page.screenshot(path=os.path.join(ARTIFACTS, name), full_page=True)


class DashboardWithoutToken(BrowserCase):
    def test_page_loads_same_origin_without_console_errors_under_its_csp(self):
        page, rec, response = self.open_dashboard("/")
        self.shot(page, "dashboard.png")
        self.assertEqual(page.url, self.demo.base + "/ui/")
        self.assertEqual(response.header_value("content-security-policy"), CSP)
        self.assertEqual(rec.errors, [])
        self.assertRegex(page.locator("#status").inner_text(), r"^\d+ panels in \d+ ms$")
        self.assertTrue(rec.requests)
        for r in rec.requests:
            self.assertTrue(r.url.startswith(self.demo.base + "/"), r.url)
            if r.method == "POST":
                self.assertEqual(r.headers.get("content-type"), "application/json", r.url)

    def test_every_panel_shows_what_the_query_endpoint_answers(self):
        page, rec, _ = self.open_dashboard()
        views = self.demo.get_json("/ui/views.json")["views"]
        self.assertGreaterEqual(len(views), 8)
        posted = [json.loads(r.post_data)["sql"] for r in rec.requests if r.method == "POST" and r.url.endswith("/v1/query")]
        for view in views:
            with self.subTest(view=view["id"]):
                panel = page.locator(f'article[data-view="{view["id"]}"]')
                self.assertEqual(panel.get_attribute("data-state"), "ok", panel.inner_text())
                sql = panel.get_attribute("data-sql")
                self.assertNotIn("{{", sql)
                self.assertIn(sql, posted)
                expected = self.demo.query(sql)
                self.assertTrue(expected["rows"], f"{view['id']}: no rows on the demo data")
                if view["chart"] == "runs":
                    continue  # its table joins the run records: test_runs_panel_shows_each_runs_outcome
                if view["chart"] == "table":
                    cells = panel.locator("tbody tr").evaluate_all(
                        "rows => rows.map(r => [...r.cells].map(c => c.textContent))")
                    width = len(expected["columns"])
                    self.assertEqual([row[:width] for row in cells],
                                     [[cell_text(v) for v in row] for row in expected["rows"]])
                else:
                    drawn = page.evaluate(
                        """id => { const ch = Chart.getChart(document.querySelector(`canvas[data-view='${id}']`));
                                   return {labels: ch.data.labels,
                                           datasets: ch.data.datasets.map(d => ({label: d.label, data: d.data}))}; }""",
                        view["id"])
                    labels, series = expected_series(expected, view)
                    self.assertEqual(drawn["labels"], labels)
                    self.assertEqual([{"label": d["label"], "data": [None if v is None else float(v) for v in d["data"]]}
                                      for d in drawn["datasets"]], series)

    def test_runs_panel_shows_each_runs_outcome(self):
        # A second run that fails (a playlist the Spotify fake does not know), next to the demo's good one.
        bad = self.demo.extractor_json("POST", "/v1/runs",
                                       {"sources": [{"type": "playlist", "id": "0000000000000000000000"}]})
        deadline = time.monotonic() + 60
        while self.demo.extractor_json("GET", f"/v1/runs/{bad['run_id']}")["status"] in ("queued", "running"):
            self.assertLess(time.monotonic(), deadline, "the failing run did not finish")
            time.sleep(0.2)
        truth = self.demo.extractor_json("GET", "/v1/runs?limit=20")["runs"]  # the extractor's own answer
        self.assertIn(bad["run_id"], [r["run_id"] for r in truth])
        deadline = time.monotonic() + 30
        while True:  # the cataloger reuses its listing of runs/ for up to 5 s
            page, rec, _ = self.open_dashboard()
            panel = page.locator('article[data-view="runs"]')
            cells = panel.locator("tbody tr").evaluate_all("rows => rows.map(r => [...r.cells].map(c => c.textContent))")
            if any(c[0] == bad["run_id"] for c in cells) or time.monotonic() > deadline:
                break
            page.close()
        self.assertEqual(panel.get_attribute("data-state"), "ok", panel.inner_text())
        self.assertTrue(any(r.url.endswith("/v1/pipeline/runs?limit=20") for r in rec.requests))
        sql = panel.get_attribute("data-sql")
        rows = {r[0]: r[1] for r in self.demo.query(sql)["rows"]}  # rows per run_id in the tables
        outcome = {"succeeded": "ok", "partial": "partial", "failed": "failed", "running": "running", "queued": "queued"}
        want = []
        for r in truth:
            failed = sum(1 for s in r["sources"] if s["status"] == "failed")
            want.append([r["run_id"], outcome[r["status"]], r["finished_at"] or r["started_at"] or r["created_at"],
                         f"{len(r['sources'])} ({failed} failed)" if failed else str(len(r["sources"])),
                         str(sum(1 for s in r["sources"] if s["object_key"])), str(sum(s["items"] for s in r["sources"])),
                         js_string(rows[r["run_id"]]) if r["run_id"] in rows else "—"])
        self.assertEqual(cells, want)
        outcomes = {c[1] for c in cells}
        self.assertIn("ok", outcomes)
        self.assertIn("failed", outcomes)
        good = next(c for c in cells if c[1] == "ok")
        self.assertNotEqual(good[6], "—", "the demo's run put rows in the tables")
        self.shot(page, "runs.png")

    def test_files_per_day_match_the_catalog_partitions(self):
        page, _, _ = self.open_dashboard()
        drawn = page.evaluate("""() => { const ch = Chart.getChart(document.querySelector("canvas[data-view='files_per_day']"));
                                         return {labels: ch.data.labels, datasets: ch.data.datasets.map(d => ({label: d.label, data: d.data}))}; }""")
        tables = [t["name"] for t in self.demo.get_json("/v1/tables")["tables"]]
        files = {}
        for t in tables:
            for p in self.demo.get_json(f"/v1/tables/{t}/partitions")["partitions"]:
                files.setdefault(p["values"][0], {})[t] = len(p["files"])
        self.assertTrue(files)
        self.assertEqual(drawn["labels"], sorted(files))
        self.assertEqual({d["label"]: d["data"] for d in drawn["datasets"]},
                         {t: [files[dt].get(t, 0) for dt in sorted(files)] for t in tables})

    def test_the_console_runs_a_query_charts_it_and_downloads_csv(self):
        page, rec, _ = self.open_dashboard()
        sql = "SELECT source_type, count(*) AS songs, count(DISTINCT song_id) AS distinct_songs FROM songs_data GROUP BY source_type ORDER BY songs DESC"
        page.fill("#sql", sql)
        page.click("#run")
        page.wait_for_selector("#console-grid[data-state='ok']", state="attached", timeout=60000)
        expected = self.demo.query(sql)
        self.assertTrue(expected["rows"])
        headers = page.locator("#console-grid thead th").all_inner_texts()
        self.assertEqual(headers, [c["name"] for c in expected["columns"]])
        cells = page.locator("#console-grid tbody tr").evaluate_all("rows => rows.map(r => [...r.cells].map(c => c.textContent))")
        self.assertEqual(cells, [[cell_text(v) for v in row] for row in expected["rows"]])
        self.assertTrue(page.locator("#console-chart").is_visible())
        drawn = page.evaluate("() => Chart.getChart(document.getElementById('console-chart')).data.labels")
        self.assertEqual(drawn, [js_string(r[0]) for r in expected["rows"]])
        self.shot(page, "console.png")
        with page.expect_download() as download:
            page.click("#csv")
        path = os.path.join(ARTIFACTS, "console-download.csv")
        download.value.save_as(path)
        self.assertEqual(download.value.suggested_filename, "query.csv")
        status, headers, body = self.demo.request("POST", "/v1/query", {"sql": sql}, accept="text/csv")
        self.assertEqual(status, 200)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), body)
        csv_requests = [r for r in rec.requests if r.headers.get("accept") == "text/csv"]
        self.assertEqual(len(csv_requests), 1)
        self.assertEqual(csv_requests[0].headers.get("content-type"), "application/json")
        self.assertEqual(rec.errors, [])

    def test_a_csv_download_past_its_page_cap_says_it_is_not_whole(self):
        page, rec, _ = self.open_dashboard()
        got = page.evaluate("""async () => {
            const { queryCsv } = await import('./api.js');
            const few = await queryCsv('SELECT i FROM range(2500) t(i)', 2);
            const all = await queryCsv('SELECT i FROM range(2500) t(i)');
            return [few.complete, few.csv.split('\\n').length, all.complete, all.csv.split('\\n').length];
        }""")
        # A header line, the rows, and the empty string after the last line end.
        self.assertEqual(got, [False, 2002, True, 2502])
        self.assertEqual(rec.errors, [])

    def test_a_bad_query_shows_the_engines_reason(self):
        page, rec, _ = self.open_dashboard()
        page.fill("#sql", "DELETE FROM songs_data")
        page.click("#run")
        page.wait_for_selector("#console-grid[data-state='error']", state="attached", timeout=60000)
        message = page.locator("#console-error").inner_text()
        self.assertIn("Bad Request", message)
        page.fill("#sql", "SELECT * FROM no_such_table")
        page.click("#run")
        page.wait_for_function("() => document.getElementById('console-error').textContent.includes('no_such_table')")
        self.shot(page, "console-error.png")

    # Interruptible, and minutes long here: it only ends early when it is cancelled
    # (or at the console's default timeout, 30 s, far past what the tests wait).
    LONG_SQL = "SELECT sum(x) AS s FROM range(1000000000000) t(x)"

    def cancelled_queries(self):
        status, _, body = self.demo.request("GET", "/metrics", accept="text/plain")
        self.assertEqual(status, 200)
        found = re.search(r'^spotify_etl_cataloger_queries_total\{state="CANCELLED"\} (\S+)$', body.decode(), re.M)
        return float(found.group(1)) if found else 0.0

    def start_long_query(self, page):
        """Runs LONG_SQL from the console; returns once the cataloger has had it a while."""
        page.fill("#sql", self.LONG_SQL)
        with page.expect_request(lambda r: r.method == "POST" and "/v1/query" in r.url and
                                 self.LONG_SQL in (r.post_data or "")):
            page.click("#run")
        time.sleep(1.0)  # on the cataloger's side: received, started, past its first check of the client
        self.assertEqual(page.locator("#console-grid").get_attribute("data-state"), "loading")

    def assert_cancelled_since(self, before, why):
        deadline = time.monotonic() + 5  # the route checks every 250 ms; the query itself would run for 30 s
        while time.monotonic() < deadline and self.cancelled_queries() < before + 1:
            time.sleep(0.05)
        self.assertEqual(self.cancelled_queries(), before + 1, why)

    def test_stop_cancels_the_running_query_on_the_cataloger(self):
        page, rec, _ = self.open_dashboard()
        self.assertTrue(page.locator("#stop").is_disabled())
        before = self.cancelled_queries()
        self.start_long_query(page)
        self.assertTrue(page.locator("#stop").is_enabled())
        page.click("#stop")
        page.wait_for_selector("#console-grid[data-state='stopped']", state="attached", timeout=10000)
        self.assertIn("stopped", page.locator("#console-meta").inner_text())
        self.assertFalse(page.locator("#console-error").is_visible())
        self.assertTrue(page.locator("#stop").is_disabled())
        self.assert_cancelled_since(before, "Stop closed the request, but the cataloger did not cancel its query")
        self.shot(page, "console-stopped.png")
        self.assertEqual(rec.errors, [])

    def test_a_new_run_replaces_the_one_still_running(self):
        page, _, _ = self.open_dashboard()
        before = self.cancelled_queries()
        self.start_long_query(page)
        page.fill("#sql", "SELECT 42 AS answer")
        page.click("#run")
        page.wait_for_selector("#console-grid[data-state='ok']", state="attached", timeout=30000)
        self.assertEqual(page.locator("#console-grid tbody td").all_inner_texts(), ["42"])
        self.assert_cancelled_since(before, "the replaced run's query was left running")
        self.assertTrue(page.locator("#stop").is_disabled())
        self.assertEqual(page.locator("#console-grid").get_attribute("data-state"), "ok")  # not undone by the old run

    def test_closing_the_tab_cancels_its_running_query(self):
        page, _, _ = self.open_dashboard()
        before = self.cancelled_queries()
        self.start_long_query(page)
        page.close()
        self.assert_cancelled_since(before, "the tab closed, but the cataloger did not cancel its query")

    def test_a_new_period_aborts_the_panel_queries_of_the_one_before(self):
        page, _, _ = self.open_dashboard()
        views = self.demo.get_json("/ui/views.json")["views"]
        failed = []
        page.on("requestfailed", lambda r: failed.append((r.method, r.post_data or "", r.failure)))
        # Two loads in one task: the first one's panel queries are out when the second starts.
        page.evaluate("""() => { const p = document.getElementById('period');
                                 for (const v of ['7', '90']) { p.value = v; p.dispatchEvent(new Event('change')); } }""")
        page.wait_for_selector("body[data-loaded]", state="attached", timeout=90000)
        queries = [f for f in failed if f[0] == "POST"]
        self.assertEqual(len(queries), len(views), failed)  # one per saved view, the runs view's among them
        self.assertTrue(all("ERR_ABORTED" in (f[2] or "") for f in queries), queries)
        states = page.locator("article.panel").evaluate_all("ps => ps.map(p => p.dataset.state)")
        self.assertEqual(set(states), {"ok"})
        self.assertIn("90 days", page.locator("#period option:checked").inner_text())

    def test_the_demos_psql_line_connects(self):
        # What `spotify-etl demo` prints under "Explore" for psql, run as printed (the
        # demo listens on a free port: the line must name that port, not 5432).
        line = next((l.strip() for l in self.demo.output if l.strip().startswith("psql ")), None)
        self.assertIsNotNone(line, "\n".join(self.demo.output))
        conninfo = re.fullmatch(r'psql\s+psql "(host=127\.0\.0\.1 port=\d+ dbname=spotify user=demo)"', line)
        self.assertIsNotNone(conninfo, line)
        if not shutil.which("psql"):
            self.skipTest("no psql here (tests/pgwire installs it)")
        r = subprocess.run(["psql", "-X", "-A", "-t", "-d", conninfo.group(1), "-c", "SELECT count(*) FROM songs_data"],
                           capture_output=True, text=True, timeout=60, env=dict(os.environ, PGCONNECT_TIMEOUT="10"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(int(r.stdout.strip()), self.demo.query("SELECT count(*) FROM songs_data")["rows"][0][0])

    def test_the_table_browser_shows_columns_and_partitions(self):
        page, _, _ = self.open_dashboard()
        page.click("button[data-table='songs_data']")
        page.wait_for_selector("#table-detail table.partitions", timeout=30000)
        table = self.demo.get_json("/v1/tables/songs_data")
        columns = page.locator("#table-detail table.columns tbody tr td:first-child").all_inner_texts()
        self.assertEqual(columns, [c["name"] for c in table["columns"]] + table["partition_keys"])
        parts = self.demo.get_json("/v1/tables/songs_data/partitions")["partitions"]
        rows = page.locator("#table-detail table.partitions tbody tr").evaluate_all(
            "rows => rows.map(r => [r.cells[0].textContent, Number(r.cells[1].textContent)])")
        self.assertEqual(sorted(rows), sorted([p["values"][0], len(p["files"])] for p in parts))
        self.shot(page, "tables.png")

    def test_the_grafana_data_panels_answer_on_the_demo(self):
        with open(os.path.join(SOURCE_DIR, "deploy", "grafana", "spotify-etl-dashboard.json"), encoding="utf-8") as f:
            dash = json.load(f)
        sql_panels = [p for p in dash["panels"] if p.get("datasource", {}).get("type") == "grafana-postgresql-datasource"]
        self.assertGreaterEqual(len(sql_panels), 3)
        # The provisioned data source is the one the board's variable picks by default.
        variable = next(v for v in dash["templating"]["list"] if v["name"] == "cataloger_sql")
        with open(os.path.join(SOURCE_DIR, "deploy", "grafana", "provisioning", "datasources", "spotify-etl.yaml"),
                  encoding="utf-8") as f:
            provisioning = f.read()
        self.assertEqual(variable["query"], "grafana-postgresql-datasource")
        for line in (f"uid: {variable['current']['value']}", "type: grafana-postgresql-datasource",
                     "database: spotify", "password: ${ETL_READ_TOKEN}"):
            self.assertIn(line, provisioning)
        for p in sql_panels:
            for target in p["targets"]:
                with self.subTest(panel=p["title"]):
                    # Grafana's own variables: the dashboard's range, here wide enough for any data.
                    sql = (target["rawSql"].replace("${__from:date:YYYY-MM-DD}", "1900-01-01")
                           .replace("${__to:date:YYYY-MM-DD}", "2999-12-31"))
                    self.assertNotIn("$", sql)
                    self.assertTrue(self.demo.query(sql)["rows"], p["title"])


class DashboardWithToken(BrowserCase):
    token = TOKEN
    extra_env = {"ETL_READ_TOKEN": READ_TOKEN}

    def test_the_read_only_token_opens_every_panel(self):
        # What a team's shared screen should hold: the token that may not trigger or reprocess.
        page, rec, _ = self.open_dashboard(wait_loaded=False)
        page.wait_for_selector("body[data-auth='required']", state="attached", timeout=60000)
        self.assertIn("ETL_READ_TOKEN", page.locator("#auth-message").inner_text())
        page.fill("#auth-token", READ_TOKEN)
        page.click("#auth-form button[type=submit]")
        page.wait_for_selector("body[data-loaded]", state="attached", timeout=90000)
        states = page.locator("article.panel").evaluate_all("ps => ps.map(p => p.dataset.state)")
        self.assertTrue(states)
        self.assertEqual(set(states), {"ok"})
        # The browser's own lines for the first, tokenless 401s only: no 403 from any panel.
        self.assertEqual([e for e in rec.errors if "401" not in e], [])
        status, _, body = self.demo.request("POST", "/v1/crawl", {}, token=READ_TOKEN)
        self.assertEqual(status, 403, body)

    def test_asks_for_the_token_rejects_a_wrong_one_and_keeps_the_right_one(self):
        page, rec, _ = self.open_dashboard(wait_loaded=False)
        page.wait_for_selector("body[data-auth='required']", state="attached", timeout=60000)
        self.assertTrue(page.locator("#auth").is_visible())
        self.assertIn("API token", page.locator("#auth-message").inner_text())
        page.fill("#auth-token", "wrong-token")
        page.click("#auth-form button[type=submit]")
        page.wait_for_function("() => document.getElementById('auth-message').textContent.includes('not accepted')")
        self.assertIn("ETL_API_TOKEN", page.locator("#auth-message").inner_text())
        self.assertIsNone(page.locator("body").get_attribute("data-loaded"))
        self.shot(page, "wrong-token.png")

        page.fill("#auth-token", TOKEN)
        page.click("#auth-form button[type=submit]")
        page.wait_for_selector("body[data-loaded]", state="attached", timeout=90000)
        self.assertFalse(page.locator("#auth").is_visible())
        self.assertEqual(page.evaluate("() => sessionStorage.getItem('spotify-etl.token')"), TOKEN)
        states = page.locator("article.panel").evaluate_all("ps => ps.map(p => p.dataset.state)")
        self.assertTrue(states)
        self.assertEqual(set(states), {"ok"})
        api = [r for r in rec.requests if "/v1/" in r.url]
        authorized = [r.headers.get("authorization") for r in api]
        self.assertIn("Bearer wrong-token", authorized)
        self.assertEqual(authorized[-1], "Bearer " + TOKEN)
        # Only the browser's own 401 resource lines, nothing from the page's scripts.
        self.assertEqual([e for e in rec.errors if "401" not in e], [])
        self.shot(page, "dashboard-with-token.png")

        rec.requests.clear()
        page.reload()
        page.wait_for_selector("body[data-loaded]", state="attached", timeout=90000)
        self.assertEqual(page.locator("body").get_attribute("data-auth"), "ok")
        self.assertTrue(all(r.headers.get("authorization") == "Bearer " + TOKEN for r in rec.requests if "/v1/" in r.url))

    def test_the_api_refuses_the_page_without_the_token(self):
        status, _, _ = self.demo.request("POST", "/v1/query", {"sql": "SELECT 1"}, token="")
        self.assertEqual(status, 401)
        status, headers, _ = self.demo.request("GET", "/ui/", accept="text/html", token="")
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("Content-Security-Policy"), CSP)


if __name__ == "__main__":
    unittest.main(verbosity=2)
