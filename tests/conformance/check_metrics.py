"""Reads a /metrics endpoint and checks it the way Prometheus would take it.

prometheus_client's text parser must read it whole, and on top: the content
type of the 0.0.4 text format with charset=utf-8; metric and label names as
the data model allows; counters named *_total; histogram bounds in the
shortest form that reads back as the same float (le="0.0025"); route labels
that are templates (/v1/query/{query_id}), not regexes.
Usage: check_metrics.py <url> <file to write the body to>
"""
import math
import re
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def shortest(text: str) -> bool:
    if text in ("+Inf", "-Inf", "NaN"):
        return True
    value = float(text)
    return text == repr(value) or text == repr(value).removesuffix(".0") or (math.isfinite(value) and text == f"{value:g}" and float(f"{value:g}") == value)


def main() -> int:
    url, out = sys.argv[1], sys.argv[2]
    with urllib.request.urlopen(url, timeout=10) as r:
        content_type = r.headers.get("Content-Type", "")
        body = r.read().decode("utf-8")
    open(out, "w", encoding="utf-8").write(body)
    problems = []
    if content_type != "text/plain; version=0.0.4; charset=utf-8":
        problems.append(f"content type {content_type!r}")
    families = list(text_string_to_metric_families(body))
    if not families:
        problems.append("no metric families")
    for family in families:
        if not NAME.match(family.name) or not family.name.startswith("spotify_etl_"):
            problems.append(f"metric name {family.name!r}")
        if family.type == "counter" and not body.count(f"# TYPE {family.name}_total counter") and \
                not body.count(f"# TYPE {family.name} counter"):
            problems.append(f"counter {family.name!r}")
        if family.type == "counter" and f"# TYPE {family.name}_total counter" not in body:
            problems.append(f"counter {family.name!r} is not named *_total")
        for sample in family.samples:
            for label, value in sample.labels.items():
                if not LABEL.match(label) or label.startswith("__"):
                    problems.append(f"label name {label!r} on {sample.name}")
                if label == "route" and ("(" in value or "[" in value):
                    problems.append(f"route label is a regex: {value!r}")
    for le in re.findall(r'[{,]le="([^"]*)"', body):
        if not shortest(le):
            problems.append(f'bucket bound le="{le}" is not in shortest round-trip form')
    for p in problems:
        print("metrics:", p, file=sys.stderr)
    print(f"metrics: {len(families)} families parsed, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
