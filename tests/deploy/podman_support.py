"""Helpers of the container tests (image_test.py, stack_test.py): podman, the
images of deploy/scripts/local-images.sh, HTTP. Standard library only."""

import fcntl
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from ports import free_port  # noqa: E402,F401

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LOCAL_IMAGES = os.path.join(REPO, "deploy", "scripts", "local-images.sh")
SKIP = 77


def log(prefix, msg):
    print(f"{prefix}: {msg}", file=sys.stderr, flush=True)


def skip(reason):
    """One line saying why, exit 77 (ctest's SKIP_RETURN_CODE)."""
    print(f"SKIPPED: {reason}", file=sys.stderr, flush=True)
    sys.exit(SKIP)


def run(argv, timeout=120, check=True, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} -> {p.returncode}\n{p.stdout[-2000:]}\n{p.stderr[-4000:]}")
    return p


def podman(*args, timeout=120, check=True):
    return run(["podman", *args], timeout=timeout, check=check)


def ensure_podman():
    """Installs podman through local-images.sh (Debian, root or sudo) and checks
    that it can run a container; skips (77) with the reason when it cannot."""
    p = subprocess.run(["bash", LOCAL_IMAGES, "install"], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=900)
    if p.returncode != 0:
        if subprocess.run(["sh", "-c", "command -v podman"], capture_output=True).returncode != 0:
            last = (p.stderr.strip().splitlines() or ["?"])[-1]
            skip(f"podman is not installed and could not be installed: {last}")
    info = subprocess.run(["podman", "info", "--format", "{{.Host.OCIRuntime.Name}}"],
                          capture_output=True, text=True, timeout=120)
    if info.returncode != 0:
        skip("podman cannot run here: " + (info.stderr.strip().splitlines() or ["podman info failed"])[-1])


_images_lock = None


def hold_images_lock(prefix):
    """Holds the machine-wide lock of deploy/scripts/local-images.sh until this
    process exits: the image tags are shared by every checkout, so another
    checkout's build must not retag them between our build and our containers.
    local-images.sh, run from here, sees ETL_IMAGES_LOCKED=1 and does not wait."""
    global _images_lock
    if _images_lock is not None:
        return
    cache = os.environ.get("ETL_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "spotify-etl")
    os.makedirs(os.path.join(cache, "images"), exist_ok=True)
    path = os.path.join(cache, "images", "podman.lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log(prefix, f"waiting for another checkout's image build or test ({path})")
        fcntl.flock(fd, fcntl.LOCK_EX)
    _images_lock = fd
    os.environ["ETL_IMAGES_LOCKED"] = "1"


def build_images(what, prefix, timeout):
    """local-images.sh <what...>; returns (seconds, {ETL_IMAGE_*: name}). Its
    progress goes to our stderr (ctest's log)."""
    hold_images_lock(prefix)
    start = time.monotonic()
    p = subprocess.run(["bash", LOCAL_IMAGES, *what], stdin=subprocess.DEVNULL, timeout=timeout)
    took = time.monotonic() - start
    if p.returncode != 0:
        raise AssertionError(f"local-images.sh {' '.join(what)} failed ({p.returncode})")
    env = {}
    for line in run(["bash", LOCAL_IMAGES, "env"]).stdout.splitlines():
        k, _, v = line.partition("=")
        env[k] = v
    log(prefix, f"local-images.sh {' '.join(what)}: {took:.0f} s")
    return took, env


def base_runs(image):
    """Whether podman can start a container of this image at all (else: skip)."""
    p = subprocess.run(["podman", "run", "--rm", "--network", "none", "--entrypoint", "/bin/true", image],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        skip("podman cannot start a container here: " + (p.stderr.strip().splitlines() or ["?"])[-1])


def http(method, url, body=None, token=None, timeout=10):
    """(status, body text); status 0 when nothing answered."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout):
        return 0, ""


def wait_http(url, deadline_s, want=200, alive=None):
    """Polls GET url until it answers `want`; returns (status, body) of the last try.
    alive(): returns an error text when the thing behind url has died (stop early)."""
    deadline = time.monotonic() + deadline_s
    last = (0, "")
    while time.monotonic() < deadline:
        last = http("GET", url, timeout=5)
        if last[0] == want:
            return last
        if alive is not None:
            err = alive()
            if err:
                return (0, err)
        time.sleep(0.5)
    return last


def metric(base_url, name, labels=None):
    """One sample of a /metrics endpoint, or None."""
    status, body = http("GET", base_url + "/metrics")
    if status != 200:
        return None
    labels = labels or {}
    for line in body.splitlines():
        if line.startswith(name) and line[len(name):len(name) + 1] in ("{", " ") \
                and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def container_state(name):
    p = podman("inspect", "--format", "{{json .State}}", name, check=False)
    return json.loads(p.stdout) if p.returncode == 0 else None


def logs_tail(name, n=40):
    p = podman("logs", "--tail", str(n), name, check=False)
    return f"--- {name} ---\n{p.stdout}{p.stderr}"
