"""P5S: what a proxy costs per request on its own: the gateway and nginx in front of a static
upstream (nginx answering every request 200 with a fixed 2 kB search answer), so that no
search engine's CPU or drift is in the figures. This is where the gateway's CPU per request is
profiled and compared (P5 has OpenSearch behind the proxies, whose ±8 % drift hides a few µs).

Every system runs one worker (the gateway `http.worker_threads = 1`); the gateway with its default
runtime (a worker thread per core) is measured beside it. ROUNDS rounds, the order
rotating; in each, every front (gateway, nginx, the static upstream itself) is measured open
loop at RATE req/s (a realistic level: the proxy wakes up for nearly every request, nothing is
batched) and then closed loop (the most it forwards). CPU per request is the proxy process's
CPU time over the measured window divided by the requests. No target: it explains P5.
In the table "searchgate" is the gateway and "OpenSearch" is nginx.
"""
import json
import os
import shutil

from core import Skip, row
from p5 import gateway_available, median
from systems import Nginx, Searchgate

ID = "P5S"
TITLE = "proxy cost per request, gateway vs nginx, static upstream"
ORDER = 51
QUERIES = ["debian.jsonl"]
ROUNDS = 3
RATE = 2000.0
RUN_SECONDS = 10.0
RUN_WARMUP = 2.0


def static_answer():
    """A 2 kB search answer of the shape OpenSearch sends for P1's queries."""
    hits = [{"_index": "debian", "_id": str(i), "_score": 1.5,
             "_source": {"package": f"pkg{i}", "description": "a web server library for things " * 3}}
            for i in range(10)]
    return json.dumps({"took": 3, "timed_out": False,
                       "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                       "hits": {"total": {"value": 100, "relation": "eq"}, "max_score": 1.5, "hits": hits}})


def run(ctx):
    if not gateway_available(ctx.sg_bin):
        raise Skip("gateway mode not built")
    if ctx.smoke:
        raise Skip("no timing in smoke runs")
    if not shutil.which("nginx") and not os.path.exists("/usr/sbin/nginx"):
        raise Skip("nginx is not installed (bench/run installs it for full runs)")
    upstream = Nginx(None, ctx.work, static_body=static_answer(), name="static-upstream")
    fronts = {"upstream": upstream}
    # the gateway as P5 runs it (single-threaded runtime), and with the default runtime (one
    # worker thread per core, work stealing) for contrast
    for name, threads in (("gateway", "1"), ("gateway-default", "0")):
        fronts[name] = Searchgate(ctx.sg_bin, os.path.join(ctx.work, f"p5s-{name}-data"), ctx.work,
                                  extra_args=["--upstream", upstream.url], logname=f"p5s-{name}.log",
                                  env={"SEARCHGATE_HTTP__WORKER_THREADS": threads})
        fronts[name].name = name
    fronts["nginx"] = Nginx(upstream.url, ctx.work, name="nginx-proxy")
    try:
        # every front is stopped below, also one whose start failed half-way
        for f in fronts.values():
            f.start()
        opened = {s: [] for s in fronts}
        closed = {s: [] for s in fronts}
        order = list(fronts)
        for i in range(ROUNDS):
            turn = order[i % len(order):] + order[:i % len(order)]
            for s in turn:
                opened[s].append(ctx.measure(fronts[s], QUERIES, mode="open", rate=RATE, connections=32,
                                             duration=RUN_SECONDS, warmup=RUN_WARMUP,
                                             label=f"P5S open {s} round {i + 1}"))
            for s in turn:
                closed[s].append(ctx.measure(fronts[s], QUERIES, mode="closed", duration=RUN_SECONDS,
                                             warmup=RUN_WARMUP, label=f"P5S closed {s} round {i + 1}"))
    finally:
        for f in fronts.values():
            f.stop()

    def cpu(runs, s):
        return median([r.get("server_cpu_ms_per_request") for r in runs[s]])

    def p50_added(s):
        # service time (from the actual send): at this level the intended-time latency is mostly
        # the load generator's 1 ms timer granularity, equal for all and larger than the hop
        return median([r["service_time_ms"]["p50"] - u["service_time_ms"]["p50"]
                       for r, u in zip(opened[s], opened["upstream"])
                       if r.get("service_time_ms") and u.get("service_time_ms")])

    def qps(s):
        return median([r["qps"] for r in closed[s]])

    rows = [
        row(f"proxy CPU per request, open loop @ {RATE:.0f} req/s, gateway vs nginx", "ms",
            cpu(opened, "gateway"), cpu(opened, "nginx"), better="lower",
            note="the proxy process only (nginx: its worker); medians of the rounds"),
        row("proxy CPU per request, closed loop (8 connections), gateway vs nginx", "ms",
            cpu(closed, "gateway"), cpu(closed, "nginx"), better="lower"),
        row(f"p50 service time added to the static upstream's, open loop @ {RATE:.0f} req/s, gateway vs nginx",
            "ms", p50_added("gateway"), p50_added("nginx"), better="lower",
            note="from the actual send to the answer; medians of per-round differences"),
        row("closed-loop throughput (8 connections), gateway vs nginx", "req/s", qps("gateway"), qps("nginx"),
            note=f"the static upstream alone: {qps('upstream'):.0f} req/s; all of them share the two CPUs"),
        row(f"gateway CPU per request, open loop @ {RATE:.0f} req/s: single-threaded runtime vs the default "
            "(a worker per core)", "ms", cpu(opened, "gateway"), cpu(opened, "gateway-default"), better="lower",
            note="http.worker_threads = 1 vs 0; P5 runs the single-threaded one"),
    ]
    errors = sum(r["errors"] for runs in (opened, closed) for rs in runs.values() for r in rs)
    if errors:
        rows.append(row("failed requests (all P5S runs)", "count", errors, None, better="lower"))
    return {"results": {"open": opened, "closed": closed, "rate": RATE}, "rows": rows}
