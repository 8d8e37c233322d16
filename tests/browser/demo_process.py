"""Starts `spotify-etl demo` on loopback (free ports) and talks to its cataloger."""
import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request


def child_processes(pid, marker=None):
    """The live (not zombie) child processes of `pid`, from /proc; with `marker`
    (bytes), only those whose command line holds it."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
            fields = stat[stat.rfind(")") + 2:].split()
            if int(fields[1]) != pid or fields[0] == "Z":
                continue
            if marker is not None:
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    if marker not in f.read():
                        continue
        except OSError:  # it ended meanwhile
            continue
        found.append(int(name))
    return found


class Demo:
    def __init__(self, bin_dir, token="", timeout=180, extra_env=None):
        self.token = token
        self.dir = tempfile.mkdtemp(prefix="spotify-etl-browser-")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ETL_", "AWS_"))}
        env.update({
            "ETL_EXTRACTOR_ADDR": "127.0.0.1:0",
            "ETL_TRANSFORMER_ADDR": "127.0.0.1:0",
            "ETL_CATALOGER_ADDR": "127.0.0.1:0",
            "ETL_PG_ADDR": "127.0.0.1:0",  # the PostgreSQL endpoint, where the build has one
            "ETL_LOG_LEVEL": "warn",
        })
        if token:
            env["ETL_API_TOKEN"] = token
        env.update(extra_env or {})
        self.log_path = os.path.join(self.dir, "demo.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([os.path.join(os.path.abspath(bin_dir), "spotify-etl"), "demo"], cwd=self.dir, env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, start_new_session=True)
        self.lines = queue.Queue()
        self.output = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.url = self._wait_for_dashboard(timeout)
        self.base = self.url[: -len("/ui/")]
        # "  extractor    http://127.0.0.1:<port>/v1/runs" in the demo's report
        self.extractor = next((line.split()[1][: -len("/v1/runs")] for line in self.output
                               if line.strip().startswith("extractor ") and line.rstrip().endswith("/v1/runs")), None)

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _wait_for_dashboard(self, timeout):
        deadline = time.monotonic() + timeout
        url = None
        previous = ""
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            self.output.append(line)
            if previous == "Dashboard:":
                url = line.split()[0]
            if line.startswith("Serving until Ctrl-C") and url:
                return url
            previous = line
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            log_tail = f.read()[-3000:]
        self.stop()
        raise RuntimeError("the demo did not print its dashboard URL and serve:\n" + "\n".join(self.output)
                           + "\n--- log ---\n" + log_tail)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.reader.join(timeout=5)
        self.log.close()
        if not self.reader.is_alive():
            self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def request(self, method, path, body=None, accept="application/json", token=None, base=None):
        headers = {"Accept": accept}
        token = self.token if token is None else token
        if token:
            headers["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request((base or self.base) + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as res:
                return res.status, dict(res.headers), res.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def query(self, sql):
        status, _, body = self.request("POST", "/v1/query", {"sql": sql, "max_rows": 1000})
        if status != 200:
            raise AssertionError(f"/v1/query {status}: {body[:500]!r} for {sql}")
        return json.loads(body)

    def get_json(self, path):
        status, _, body = self.request("GET", path)
        if status != 200:
            raise AssertionError(f"GET {path} {status}: {body[:500]!r}")
        return json.loads(body)

    def extractor_json(self, method, path, body=None):
        """The extractor's own API (the source of truth for runs)."""
        if not self.extractor:
            raise AssertionError("the demo did not print the extractor's URL:\n" + "\n".join(self.output))
        status, _, data = self.request(method, path, body, base=self.extractor)
        if status not in (200, 202):
            raise AssertionError(f"{method} {self.extractor}{path} {status}: {data[:500]!r}")
        return json.loads(data)
