"""P5: searchgate as a gateway in front of OpenSearch vs OpenSearch direct, P1's query mix, with
nginx (a plain keep-alive reverse proxy, one worker) as the reference for what any proxy costs
on this machine. The gateway runs with one worker thread (`http.worker_threads = 1`) like nginx's
one worker: both share the two cores with OpenSearch and the load generator.

After warming OpenSearch up until its throughput is stable (uncounted), ROUNDS rounds; in each, every system is measured closed loop
(throughput) and then open loop at half the direct maximum of the first round (the latency a
proxy adds), the order rotating from round to round. The ratios are taken within a round (the
gateway against the direct run minutes apart, not hours) and the median over the rounds is
reported, because on this shared 2-core machine the level drifts more than the gateway costs.
Targets: throughput >= 0.95x of direct, p50 + <= 0.2 ms.
In this table the "searchgate" column is the gateway (or nginx) and the "OpenSearch" column is
direct.
"""
import subprocess

from core import Skip, row

ID = "P5"
TITLE = "gateway in front of OpenSearch vs direct (nginx for reference)"
ORDER = 50
QUERIES = ["debian.jsonl"]
ROUNDS = 3
RUN_WARMUP = 3.0


def gateway_available(binary):
    out = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True).stdout
    return "--upstream" in out


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def run(ctx):
    if not gateway_available(ctx.sg_bin):
        raise Skip("gateway mode not built")
    if not ctx.with_opensearch:
        raise Skip("needs OpenSearch (run without --smoke, or with --opensearch)")
    ctx.ensure_loaded("opensearch", "debian")
    ctx.settle("opensearch")
    names = {"gateway": "gateway", "opensearch": "direct", "nginx": "nginx"}
    for s in names:
        ctx.system(s)
    rounds = 1 if ctx.smoke else ROUNDS
    warm = ctx.warm_until_stable("opensearch", QUERIES, limit=30.0 if ctx.smoke else 300.0)
    closed = {s: [] for s in names}
    opened = {s: [] for s in names}
    order = list(names)
    rate = None
    for i in range(rounds):
        turn = order[i % len(order):] + order[:i % len(order)]
        for s in turn:
            closed[s].append(ctx.measure(s, QUERIES, mode="closed", warmup=RUN_WARMUP,
                                         label=f"P5 closed {names[s]} round {i + 1}"))
        if rate is None:
            rate = max(1.0, closed["opensearch"][0]["qps"] * 0.5)
        for s in turn:
            opened[s].append(ctx.measure(s, QUERIES, mode="open", rate=rate, connections=max(32, ctx.connections),
                                         warmup=RUN_WARMUP, label=f"P5 open {names[s]} round {i + 1}"))

    def qps(s):
        return [r["qps"] for r in closed[s]]

    def pct(s, p):
        return [(r["latency_ms"] or {}).get(p) for r in opened[s]]

    def ratio_in_round(s):
        return median([a / b for a, b in zip(qps(s), qps("opensearch")) if b])

    def added_in_round(s, p):
        return median([a - b for a, b in zip(pct(s, p), pct("opensearch", p)) if a is not None and b is not None])

    def cpu(s):
        return median([r.get("server_cpu_ms_per_request") for r in closed[s]])

    def every(s):
        return ", ".join(f"{q:.0f}" for q in qps(s))

    gw_ratio, ngx_ratio = ratio_in_round("gateway"), ratio_in_round("nginx")
    rows = [
        row("closed-loop throughput, gateway ÷ direct (median of per-round ratios)", "req/s",
            median(qps("gateway")), median(qps("opensearch")), target=0.95,
            note=f"per-round ratio median {gw_ratio:.3f}; every round: gateway {every('gateway')}; "
                 f"direct {every('opensearch')}; nginx {every('nginx')}"),
        row("closed-loop throughput, nginx ÷ direct (reference)", "req/s", median(qps("nginx")),
            median(qps("opensearch")), note=f"per-round ratio median {ngx_ratio:.3f}"),
        row(f"open loop @ {rate:.0f} req/s: p50, gateway vs direct", "ms", median(pct("gateway", "p50")),
            median(pct("opensearch", "p50")), better="lower"),
        row("p50 added by the gateway (median of per-round differences)", "ms", added_in_round("gateway", "p50"),
            None, better="lower", abs_target=0.2),
        row("p50 added by nginx (reference)", "ms", added_in_round("nginx", "p50"), None, better="lower"),
        row(f"open loop @ {rate:.0f} req/s: p99, gateway vs direct", "ms", median(pct("gateway", "p99")),
            median(pct("opensearch", "p99")), better="lower"),
        row("proxy CPU per request (closed loop), gateway vs nginx", "ms", cpu("gateway"), cpu("nginx"),
            better="lower", note="the proxy process only (nginx: its worker)"),
        row("gateway RSS under load (peak)", "MB",
            max(((r.get("server") or {}).get("rss_mb_max") or 0) for r in closed["gateway"]), None,
            better="lower"),
    ]
    # the throughput row's ratio is the per-round median, not the ratio of the medians
    rows[0]["ratio"] = gw_ratio
    rows[0]["met"] = gw_ratio is not None and gw_ratio >= 0.95
    rows[1]["ratio"] = ngx_ratio
    errors = sum(r["errors"] for s in names for r in closed[s] + opened[s])
    if errors:
        rows.append(row("failed requests (all P5 runs)", "count", errors, None, better="lower"))
    return {"results": {"closed": closed, "open": opened, "rate": rate, "warm_up_qps": warm}, "rows": rows}
