"""P1A: aggregations over flights (terms, date_histogram, stats, range), both systems.

The embedded engine has no aggregations yet and answers them with a 400: the scenario records
that honestly (per-kind errors) instead of leaving the kinds out. Needs `flights` loaded.
"""
from core import row

ID = "P1A"
TITLE = "aggregations on flights (terms, date_histogram, stats)"
ORDER = 25
QUERIES = ["flights-aggs.jsonl"]


def run(ctx):
    runs = {}
    for s in ctx.system_names():
        ctx.ensure_loaded(s, "flights")
        ctx.settle(s)
        runs[s] = ctx.measure(s, QUERIES, mode="closed", duration=max(1.0, ctx.duration / 3),
                              label=f"P1A closed {s}")
    support = {s: _support(r) for s, r in runs.items()}
    qps = {s: (r["qps"] if r["ok"] else None) for s, r in runs.items()}
    p99 = {s: (r["latency_ms"] or {}).get("p99") for s, r in runs.items()}
    rows = [row("aggregations: throughput", "req/s", qps.get("searchgate"), qps.get("opensearch"),
                note="searchgate: " + support["searchgate"] + "; latencies of answered requests only"),
            row("aggregations: closed-loop p99", "ms", p99.get("searchgate"), p99.get("opensearch"),
                better="lower")]
    kinds = sorted({k for r in runs.values() for k in r["per_kind"]})
    for k in kinds:
        lat = {s: (r["per_kind"].get(k) or {}).get("latency_ms") or {} for s, r in runs.items()}
        errs = {s: (r["per_kind"].get(k) or {}).get("errors", 0) for s, r in runs.items()}
        rows.append(row(f"{k}: p50", "ms", lat.get("searchgate", {}).get("p50"),
                        lat.get("opensearch", {}).get("p50"), better="lower",
                        note=(f"searchgate: {errs['searchgate']} failed" if errs.get("searchgate") else None)))
    return {"results": {"runs": runs, "support": support}, "rows": rows}


def _support(r):
    """'ok', or which kinds failed and the first error the server gave."""
    if r["errors"] == 0:
        return "all kinds answered"
    bad = [f"{k}: {v['errors']}/{v['ok'] + v['errors']} failed" for k, v in r["per_kind"].items() if v["errors"]]
    first = (r.get("error_samples") or [""])[0]
    reason = first.split('"reason":"', 1)[1].split('"', 1)[0] if '"reason":"' in first else first[:120]
    return "; ".join(bad) + (f" ({reason})" if reason else "")
