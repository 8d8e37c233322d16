"""TLS on the cataloger's PostgreSQL endpoint, with real clients: psql and psycopg 3
over sslmode=require / verify-ca / verify-full against a self-signed certificate
made here with the openssl CLI; plaintext still served unless ETL_PG_TLS_REQUIRED;
a stalled handshake is dropped at the read timeout; a bad key file stops the start-up
with one line. Rows are compared with POST /v1/query. Run by tests/pgwire/run.sh."""

import json
import os
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import unittest
import urllib.request

import psycopg

from test_clients import free_port  # one record of the ports given, shared with test_clients

TOKEN = "pgwire-tls-token"
WORKDIR = None
BINARY = None
SQL = "SELECT artist_id, count(*) AS n FROM songs_data GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5"


def openssl(*args):
    subprocess.run(["openssl", *args], cwd=WORKDIR.name, check=True, capture_output=True, timeout=60)


def setUpModule():
    """One demo run fills ./data/demo; each test class then serves it with its own TLS settings."""
    global WORKDIR, BINARY
    WORKDIR = tempfile.TemporaryDirectory(prefix="pgwire-tls-")
    BINARY = os.path.join(os.environ["ETL_BIN_DIR"], "spotify-etl")
    env = base_env()
    env.update({"ETL_PG_ADDR": "off", "ETL_EXTRACTOR_ADDR": "127.0.0.1:0", "ETL_TRANSFORMER_ADDR": "127.0.0.1:0",
                "ETL_CATALOGER_ADDR": "127.0.0.1:0"})
    demo = subprocess.run([BINARY, "demo", "--once"], cwd=WORKDIR.name, env=env, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)
    if demo.returncode != 0:
        raise RuntimeError("spotify-etl demo --once failed: " + demo.stderr[-3000:])
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "key.pem", "-out", "cert.pem", "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1")
    openssl("req", "-x509", *ec, "-keyout", "other-key.pem", "-out", "other-cert.pem", "-days", "2",
            "-subj", "/CN=other")
    os.chmod(os.path.join(WORKDIR.name, "key.pem"), 0o600)


def tearDownModule():
    if WORKDIR:
        WORKDIR.cleanup()


def base_env():
    return {k: v for k, v in os.environ.items() if not k.startswith(("ETL_", "AWS_", "PG"))}


def path(name):
    return os.path.join(WORKDIR.name, name)


class Up:
    """`spotify-etl up` over the demo data with the given PostgreSQL settings."""

    def __init__(self, **extra):
        self.ports = {name: free_port() for name in ("extractor", "transformer", "cataloger", "pg")}
        env = base_env()
        env.update({
            "ETL_EXTRACTOR_ADDR": f"127.0.0.1:{self.ports['extractor']}",
            "ETL_TRANSFORMER_ADDR": f"127.0.0.1:{self.ports['transformer']}",
            "ETL_CATALOGER_ADDR": f"127.0.0.1:{self.ports['cataloger']}",
            "ETL_PG_ADDR": f"127.0.0.1:{self.ports['pg']}",
            "ETL_API_TOKEN": TOKEN,
            "ETL_RAW_URL": "file://./data/demo/raw",
            "ETL_TRANSFORMED_URL": "file://./data/demo/transformed",
            "ETL_PG_READ_TIMEOUT_S": "2",
            "ETL_LOG_LEVEL": "info",  # the log is printed when it ended early
        })
        env.update(extra)
        self.log_path = path(f"up-{self.ports['pg']}.log")
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen([BINARY, "up"], cwd=WORKDIR.name, env=env, stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if self.http_query("SELECT count(*) FROM albums_data")["rows"][0][0] > 0:
                    return
            except Exception:  # not up or not crawled yet
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("spotify-etl up did not serve the demo data; log: " + open(self.log_path).read()[-3000:])

    def stop(self):
        if self.proc.poll() is not None:  # it ended before the tests were done: say how
            with open(self.log_path) as log:
                print(f"\nspotify-etl up ended early with {self.proc.returncode}; log:\n" + log.read()[-3000:])
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def http_query(self, sql):
        req = urllib.request.Request(f"http://127.0.0.1:{self.ports['cataloger']}/v1/query",
                                     data=json.dumps({"sql": sql}).encode(),
                                     headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)

    def dsn(self, sslmode, **more):
        extra = "".join(f" {k}={v}" for k, v in more.items())
        return (f"host=127.0.0.1 port={self.ports['pg']} user=grafana dbname=spotify password={TOKEN} "
                f"sslmode={sslmode}{extra}")

    def psql(self, sslmode, sql, **more):
        env = dict(base_env(), PGCONNECT_TIMEOUT="10")
        return subprocess.run(["psql", "-X", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1", "-d", self.dsn(sslmode, **more),
                               "-c", sql], env=env, capture_output=True, text=True, timeout=60)

    def want(self):
        rows = [[row[0], str(row[1])] for row in self.http_query(SQL)["rows"]]
        assert rows, "the demo has songs"
        return rows


def psql_rows(result):
    return [line.split("|") for line in result.stdout.strip().splitlines()]


def raw_ssl_request(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(struct.pack("!ii", 8, 80877103))
    return s, s.recv(1)


def closed_within(sock, seconds):
    """True when the server closes the connection within `seconds` (reading what it sends)."""
    sock.settimeout(seconds)
    started = time.monotonic()
    try:
        while sock.recv(4096):
            if time.monotonic() - started > seconds:
                return False
        return True
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


class OptionalTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Up(ETL_PG_TLS_CERT=path("cert.pem"), ETL_PG_TLS_KEY=path("key.pem"))

    @classmethod
    def tearDownClass(cls):
        cls.up.stop()

    def test_psql_sslmode_require_matches_http(self):
        r = self.up.psql("require", SQL)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(psql_rows(r), self.up.want())
        info = subprocess.run(["psql", "-X", "-d", self.up.dsn("require"), "-c", r"\conninfo"],
                              capture_output=True, text=True, timeout=60, env=dict(base_env()))
        self.assertEqual(info.returncode, 0, info.stderr)
        self.assertIn("SSL connection", info.stdout)

    def test_psycopg_verify_ca_and_verify_full(self):
        want = [tuple([a, int(n)]) for a, n in self.up.want()]
        for mode in ("require", "verify-ca", "verify-full"):
            with psycopg.connect(self.up.dsn(mode, sslrootcert=path("cert.pem")), connect_timeout=10) as conn:
                self.assertTrue(conn.pgconn.ssl_in_use, mode)
                self.assertEqual(conn.execute(SQL).fetchall(), want, mode)

    def test_psycopg_direct_tls_without_an_ssl_request(self):
        # libpq 17+'s sslnegotiation=direct: a ClientHello as the first bytes (ALPN "postgresql").
        want = [tuple([a, int(n)]) for a, n in self.up.want()]
        for mode in ("require", "verify-full"):
            with psycopg.connect(self.up.dsn(mode, sslnegotiation="direct", sslrootcert=path("cert.pem")),
                                 connect_timeout=10) as conn:
                self.assertTrue(conn.pgconn.ssl_in_use, mode)
                self.assertEqual(conn.execute(SQL).fetchall(), want, mode)

    def test_direct_tls_needs_alpn_postgresql(self):
        startup = b"user\0grafana\0database\0spotify\0\0"
        startup = struct.pack("!ii", 8 + len(startup), 196608) + startup
        for alpn, first in ((None, b"E"), (["postgresql"], b"R")):
            ctx = ssl.create_default_context(cafile=path("cert.pem"))
            if alpn:
                ctx.set_alpn_protocols(alpn)
            with ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.up.ports["pg"]), timeout=10),
                                 server_hostname="127.0.0.1") as s:
                s.sendall(startup)
                answer = s.recv(4096)
                self.assertEqual(answer[:1], first, answer)
                if first == b"E":  # FATAL, then closed
                    self.assertIn(b"without ALPN", answer)
                else:  # SCRAM asked for: the start-up goes on as over an SSLRequest
                    self.assertIn(b"SCRAM-SHA-256", answer)

    def test_channel_binding_can_be_required(self):
        # SCRAM-SHA-256-PLUS over TLS: libpq's channel_binding=require fails unless the
        # server authenticated with it (tls-server-end-point), so success is the check.
        want = [tuple([a, int(n)]) for a, n in self.up.want()]
        for negotiation in ("postgres", "direct"):
            with psycopg.connect(self.up.dsn("require", channel_binding="require", sslnegotiation=negotiation),
                                 connect_timeout=10) as conn:
                self.assertTrue(conn.pgconn.ssl_in_use)
                self.assertEqual(conn.execute(SQL).fetchall(), want, negotiation)
        r = self.up.psql("require", SQL, channel_binding="require")  # Debian's libpq 15
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(psql_rows(r), self.up.want())
        r = self.up.psql("require", SQL, password="wrong-token", channel_binding="require")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("password authentication failed", r.stderr)
        with self.assertRaises(psycopg.OperationalError) as e:  # no TLS, nothing to bind to: libpq refuses
            psycopg.connect(self.up.dsn("disable", channel_binding="require"), connect_timeout=10)
        self.assertIn("channel binding", str(e.exception))

    def test_pgx_over_tls_binds_the_channel_too(self):
        # pgx v5 (Grafana's driver) picks SCRAM-SHA-256-PLUS when offered over TLS.
        driver = os.environ.get("ETL_GRAFANA_DRIVER", "")
        if not driver or not os.access(driver, os.X_OK):
            self.skipTest("the pgx driver program was not built (no Go toolchain)")
        want = [[a, int(n)] for a, n in self.up.want()]
        for extra in ("", " channel_binding=require"):
            r = subprocess.run([driver], input=json.dumps({"dsn": self.up.dsn("require") + extra, "queries": [SQL]}),
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            out = json.loads(r.stdout)
            for mode in ("simple", "extended"):
                self.assertEqual(out[mode][0].get("rows"), want, f"{extra} {mode}: {out[mode][0]}")

    def test_pgjdbc_over_tls_with_channel_binding_direct_tls_and_copy(self):
        # pgjdbc (Metabase's and DBeaver's driver): SCRAM-SHA-256-PLUS when required, direct TLS, CopyManager.
        jar = os.environ.get("ETL_PGJDBC_JAR", "")
        if not jar or not os.path.isfile(jar):
            self.skipTest("pgjdbc was not fetched (no java or mvn; tests/pgwire/fetch-pgjdbc.sh)")
        modes = ["sslmode=require", "sslmode=require&channelBinding=require", "sslmode=require&sslNegotiation=direct",
                 "sslmode=disable&channelBinding=require"]
        program = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jdbc", "PgJdbcCheck.java")
        r = subprocess.run(["java", "-cp", jar, program, str(self.up.ports["pg"]), TOKEN, *modes],
                           capture_output=True, text=True, timeout=180)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.strip().splitlines()
        self.assertEqual(len(lines), len(modes), r.stdout + r.stderr)
        count = self.up.http_query("SELECT count(*) FROM songs_data")["rows"][0][0]
        ids = [row[0] for row in self.up.http_query("SELECT song_id FROM songs_data ORDER BY 1 LIMIT 3")["rows"]]
        want = f"OK {count} 3 " + "|".join(["song_id", *ids]) + "|"
        for mode, line in zip(modes[:3], lines[:3]):
            self.assertEqual(line, want, mode)
        self.assertTrue(lines[3].startswith("FAIL") and "SSL" in lines[3], lines[3])  # nothing to bind to: pgjdbc refuses

    def test_verify_ca_refuses_a_certificate_it_does_not_trust(self):
        with self.assertRaises(psycopg.OperationalError):
            psycopg.connect(self.up.dsn("verify-ca", sslrootcert=path("other-cert.pem")), connect_timeout=10)

    def test_plaintext_still_works(self):
        r = self.up.psql("disable", SQL)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(psql_rows(r), self.up.want())
        with psycopg.connect(self.up.dsn("disable"), connect_timeout=10) as conn:
            self.assertFalse(conn.pgconn.ssl_in_use)

    def test_stalled_handshake_is_dropped_at_the_read_timeout(self):
        s, answer = raw_ssl_request(self.up.ports["pg"])
        with s:
            self.assertEqual(answer, b"S")
            self.assertTrue(closed_within(s, 10), "a client that never sends its ClientHello must not hold a thread")
        s, answer = raw_ssl_request(self.up.ports["pg"])
        with s:
            s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello that stops early
            self.assertTrue(closed_within(s, 10))

    def test_a_direct_tls_client_that_stalls_or_sends_garbage_is_dropped(self):
        # No SSLRequest: the first byte says TLS (0x16), then the same bounds as after an SSLRequest.
        for sent, within in ((b"\x16", 10),  # a record header's first byte, then nothing
                             (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 10),  # a ClientHello that stops early
                             (b"\x16" + b"GET / HTTP/1.0\r\n\r\n" * 10, 10)):  # not TLS after all
            with self.subTest(sent=sent[:12]), socket.create_connection(("127.0.0.1", self.up.ports["pg"]), timeout=10) as s:
                s.sendall(sent)
                self.assertTrue(closed_within(s, within), "a stalled or broken direct TLS start must not hold a thread")
        with psycopg.connect(self.up.dsn("require", sslnegotiation="direct"), connect_timeout=10) as conn:  # still served
            self.assertEqual(conn.execute("SELECT 1").fetchone()[0], 1)

    def test_garbage_instead_of_a_client_hello_closes(self):
        s, answer = raw_ssl_request(self.up.ports["pg"])
        with s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n" * 10)
            self.assertTrue(closed_within(s, 10))
        with psycopg.connect(self.up.dsn("require"), connect_timeout=10) as conn:  # the server is fine
            self.assertEqual(conn.execute("SELECT 1").fetchone()[0], 1)


class RequiredTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Up(ETL_PG_TLS_CERT=path("cert.pem"), ETL_PG_TLS_KEY=path("key.pem"), ETL_PG_TLS_REQUIRED="true")

    @classmethod
    def tearDownClass(cls):
        cls.up.stop()

    def test_plaintext_is_refused_with_a_clear_fatal(self):
        r = self.up.psql("disable", "SELECT 1")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ETL_PG_TLS_REQUIRED", r.stderr)
        with self.assertRaises(psycopg.OperationalError) as e:
            psycopg.connect(self.up.dsn("disable"), connect_timeout=10)
        self.assertIn("only TLS connections", str(e.exception))

    def test_tls_clients_are_served(self):
        r = self.up.psql("require", SQL)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(psql_rows(r), self.up.want())
        with psycopg.connect(self.up.dsn("prefer"), connect_timeout=10) as conn:  # prefer tries TLS first
            self.assertTrue(conn.pgconn.ssl_in_use)
        with psycopg.connect(self.up.dsn("require", sslnegotiation="direct"), connect_timeout=10) as conn:
            self.assertTrue(conn.pgconn.ssl_in_use)


class BadConfiguration(unittest.TestCase):
    def start(self, **extra):
        env = base_env()
        env.update({"ETL_PG_ADDR": f"127.0.0.1:{free_port()}", "ETL_CATALOGER_ADDR": "127.0.0.1:0",
                    "ETL_EXTRACTOR_ADDR": "127.0.0.1:0", "ETL_TRANSFORMER_ADDR": "127.0.0.1:0"})
        env.update(extra)
        return subprocess.run([BINARY, "up"], cwd=WORKDIR.name, env=env, capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)

    def assert_one_line_error(self, result, *needles):
        self.assertEqual(result.returncode, 2, result.stderr)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        for needle in needles:
            self.assertIn(needle, lines[0])

    def test_missing_key_file(self):
        r = self.start(ETL_PG_TLS_CERT=path("cert.pem"), ETL_PG_TLS_KEY=path("no-such-key.pem"))
        self.assert_one_line_error(r, "ETL_PG_TLS_KEY", "no-such-key.pem", "No such file")

    def test_key_of_another_certificate(self):
        r = self.start(ETL_PG_TLS_CERT=path("cert.pem"), ETL_PG_TLS_KEY=path("other-key.pem"))
        self.assert_one_line_error(r, "ETL_PG_TLS_KEY", "does not match")

    def test_certificate_file_that_is_a_key(self):
        r = self.start(ETL_PG_TLS_CERT=path("key.pem"), ETL_PG_TLS_KEY=path("key.pem"))
        self.assert_one_line_error(r, "ETL_PG_TLS_CERT", "not a PEM certificate")

    def test_required_without_a_certificate(self):
        r = self.start(ETL_PG_TLS_REQUIRED="true")
        self.assert_one_line_error(r, "ETL_PG_TLS_REQUIRED")


if __name__ == "__main__":
    unittest.main()
