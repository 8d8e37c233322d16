"""Dashboard first load with a warm cache (bench/README.md, "dashboard").

Starts `spotify-etl demo` on loopback, warms the page once in Debian's chromium
(Playwright), then measures N loads of /ui/ in fresh tabs (navigation start ->
every panel drawn: body[data-loaded-at]; "panels only" = from the page's
script start) against references in the same run: the very API requests the
page made (recorded from the browser), issued one after another by a plain
keep-alive HTTP client; and the browser's floor, a new tab loading a tiny file."""
import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "browser"))
from demo_process import Demo  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def load(ctx, url, record=None):
    page = ctx.new_page()
    if record is not None:
        page.on("request", lambda r: record.append((r.method, r.url, r.post_data, r.headers.get("accept", ""))))
    page.goto(url)
    page.wait_for_selector("body[data-loaded-at]", state="attached", timeout=120000)
    total = float(page.locator("body").get_attribute("data-loaded-at"))
    panels = float(page.locator("body").get_attribute("data-loaded"))
    page.close()
    return total, panels


def blank(ctx, url):
    """The browser's floor: a new tab loading a tiny same-origin file."""
    page = ctx.new_page()
    page.goto(url)
    ms = page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd")
    page.close()
    return ms


def replay(base, requests):
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    started = time.perf_counter()
    for method, url, body, accept in requests:
        headers = {"Accept": accept or "*/*"}
        if body:
            headers["Content-Type"] = "application/json"
        conn.request(method, urllib.parse.urlsplit(url).path + ("?" + urllib.parse.urlsplit(url).query if "?" in url else ""),
                     body=body.encode("utf-8") if body else None, headers=headers)
        res = conn.getresponse()
        res.read()
        if res.status != 200:
            raise RuntimeError(f"{method} {url}: {res.status}")
    ms = (time.perf_counter() - started) * 1000
    conn.close()
    return ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", default="build/bin")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--baseline-bin-dir", default="",
                    help="another build's bin/ (e.g. before a change): its demo's page is loaded in the same rounds")
    args = ap.parse_args()
    demo = Demo(args.bin_dir)
    baseline = Demo(args.baseline_bin_dir) if args.baseline_bin_dir else None
    base_browser, base_panels = [], []
    try:
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(tempfile.mkdtemp(prefix="spotify-etl-bench-"),
                                                        executable_path=args.chromium, headless=True, args=ARGS)
            recorded = []
            cold, _ = load(ctx, demo.url, recorded)
            if baseline:
                load(ctx, baseline.url)
            api = [r for r in recorded if "/v1/" in r[1] or r[1].endswith("views.json")]
            browser, panels, reference, floor = [], [], [], []
            for _ in range(args.rounds):  # interleaved, so all see the same machine load
                total, in_page = load(ctx, demo.url)
                browser.append(total)
                panels.append(in_page)
                reference.append(replay(demo.base, api))
                floor.append(blank(ctx, demo.url + "favicon.svg"))
                if baseline:
                    total, in_page = load(ctx, baseline.url)
                    base_browser.append(total)
                    base_panels.append(in_page)
            ctx.close()
    finally:
        demo.stop()
        if baseline:
            baseline.stop()
    queries = sum(1 for r in api if r[0] == "POST")
    report = {
        "api_requests_per_load": len(api), "queries_per_load": queries, "rounds": args.rounds,
        "first_load_cold_ms": round(cold, 1),
        "browser_warm_median_ms": round(statistics.median(browser), 1), "browser_warm_p90_ms": round(pct(browser, 90), 1),
        "browser_warm_panels_only_median_ms": round(statistics.median(panels), 1),
        "browser_blank_tab_median_ms": round(statistics.median(floor), 1),
        "reference_serial_median_ms": round(statistics.median(reference), 1),
        "reference_serial_p90_ms": round(pct(reference, 90), 1),
    }
    report["ratio_browser_over_reference"] = round(report["browser_warm_median_ms"] / report["reference_serial_median_ms"], 2)
    if baseline:
        report["baseline_bin_dir"] = args.baseline_bin_dir
        report["baseline_browser_warm_median_ms"] = round(statistics.median(base_browser), 1)
        report["baseline_browser_warm_p90_ms"] = round(pct(base_browser, 90), 1)
        report["baseline_browser_warm_panels_only_median_ms"] = round(statistics.median(base_panels), 1)
        report["ratio_browser_over_baseline"] = round(report["browser_warm_median_ms"] /
                                                      report["baseline_browser_warm_median_ms"], 2)
    report["goal_ms"] = 300
    report["goal_met"] = report["browser_warm_median_ms"] < 300
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
