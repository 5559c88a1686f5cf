"""P5: searchgate as a gateway in front of OpenSearch vs OpenSearch direct, P1's query mix, with
nginx (a plain keep-alive reverse proxy, one worker) as the reference for what any proxy costs
on this machine. The gateway runs with one worker thread (`http.worker_threads = 1`: a
single-threaded runtime) like nginx's one worker.

Two layouts of the machine's two CPUs, measured one after the other in the same run:

- "split" (the one the targets are judged on): OpenSearch on CPU 0; the load generator and
  the proxy (gateway or nginx) on CPU 1. This is how a gateway is deployed: on cores (or a
  host) of its own, not taking CPU from the data node. The direct runs use the same pinning,
  so direct and proxied differ only by the proxy's hop.
- "shared": nothing pinned, proxy, OpenSearch and load generator on both CPUs. Any proxy's CPU
  then comes out of OpenSearch's budget, which a 2-core box exaggerates; kept for comparison.

In each layout, after warming OpenSearch up until its throughput is stable (uncounted), ROUNDS
rounds; in each, every system is measured closed loop (throughput) and then open loop at half
the direct maximum of the first round (the latency a proxy adds), the order rotating from
round to round. The ratios are taken within a round (the proxy against the direct run minutes
apart, not hours) and the median over the rounds is reported, because on this shared machine
the level drifts more than the gateway costs.
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
ROUNDS = 5
RUN_SECONDS = 10.0  # short runs, many rounds: OpenSearch's level drifts by ±8 % over minutes
RUN_WARMUP = 2.0


def gateway_available(binary):
    out = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True).stdout
    return "--upstream" in out


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


LAYOUTS = {
    # name: (OpenSearch's CPUs, the load generator's and the proxy's CPUs). "shared" first:
    # OpenSearch's JIT warms up on both CPUs in half the time it needs when pinned to one.
    "shared": (None, None),
    "split": ("0", "1"),
}
NAMES = {"gateway": "gateway", "opensearch": "direct", "nginx": "nginx"}


def apply_layout(ctx, layout):
    os_cpus, front_cpus = LAYOUTS[layout]
    ctx.pin("opensearch", os_cpus)
    for s in ("gateway", "nginx"):
        ctx.pin(s, front_cpus)
    ctx.loadgen_cpus = front_cpus


def measure_layout(ctx, layout, first):
    """Warm-up, then the rounds of one layout: closed- and open-loop results per system. After
    the first layout the JIT is warm and only the new level has to settle (30 s at least)."""
    apply_layout(ctx, layout)
    rounds = 1 if ctx.smoke else ROUNDS
    warm = ctx.warm_until_stable("opensearch", QUERIES, limit=30.0 if ctx.smoke else 300.0,
                                 at_least=None if first or ctx.smoke else 30.0)
    closed = {s: [] for s in NAMES}
    opened = {s: [] for s in NAMES}
    order = list(NAMES)
    rate = None
    for i in range(rounds):
        turn = order[i % len(order):] + order[:i % len(order)]
        for s in turn:
            closed[s].append(ctx.measure(s, QUERIES, mode="closed", duration=RUN_SECONDS,
                                         warmup=RUN_WARMUP, label=f"P5 {layout} closed {NAMES[s]} round {i + 1}"))
        if rate is None:
            rate = max(1.0, closed["opensearch"][0]["qps"] * 0.5)
        for s in turn:
            opened[s].append(ctx.measure(s, QUERIES, mode="open", rate=rate, connections=max(32, ctx.connections),
                                         duration=RUN_SECONDS, warmup=RUN_WARMUP,
                                         label=f"P5 {layout} open {NAMES[s]} round {i + 1}"))
    return {"closed": closed, "open": opened, "rate": rate, "warm_up_qps": warm}


def layout_rows(layout, res, judged):
    closed, opened, rate = res["closed"], res["open"], res["rate"]
    where = {"split": "OpenSearch on CPU 0, proxy + load generator on CPU 1",
             "shared": "all on both CPUs"}[layout]

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
    gw_added = added_in_round("gateway", "p50")
    tag = f"[{layout}: {where}]"
    rows = [
        row(f"{tag} closed-loop throughput, gateway ÷ direct (median of per-round ratios)", "req/s",
            median(qps("gateway")), median(qps("opensearch")), target=0.95 if judged else None,
            note=f"per-round ratio median {gw_ratio:.3f}; every round: gateway {every('gateway')}; "
                 f"direct {every('opensearch')}; nginx {every('nginx')}"),
        row(f"{tag} closed-loop throughput, nginx ÷ direct (reference)", "req/s", median(qps("nginx")),
            median(qps("opensearch")), note=f"per-round ratio median {ngx_ratio:.3f}"),
        row(f"{tag} open loop @ {rate:.0f} req/s: p50, gateway vs direct", "ms", median(pct("gateway", "p50")),
            median(pct("opensearch", "p50")), better="lower"),
        row(f"{tag} p50 added by the gateway (median of per-round differences)", "ms", gw_added,
            None, better="lower", abs_target=0.2 if judged else None),
        row(f"{tag} p50 added by nginx (reference)", "ms", added_in_round("nginx", "p50"), None, better="lower"),
        row(f"{tag} open loop @ {rate:.0f} req/s: p99, gateway vs direct", "ms", median(pct("gateway", "p99")),
            median(pct("opensearch", "p99")), better="lower"),
        row(f"{tag} proxy CPU per request (closed loop), gateway vs nginx", "ms", cpu("gateway"), cpu("nginx"),
            better="lower", note="the proxy process only (nginx: its worker)"),
    ]
    # the throughput row's ratio is the per-round median, not the ratio of the medians
    rows[0]["ratio"] = gw_ratio
    rows[0]["met"] = (gw_ratio is not None and gw_ratio >= 0.95) if judged else None
    rows[1]["ratio"] = ngx_ratio
    return rows


def run(ctx):
    if not gateway_available(ctx.sg_bin):
        raise Skip("gateway mode not built")
    if not ctx.with_opensearch:
        raise Skip("needs OpenSearch (run without --smoke, or with --opensearch)")
    ctx.ensure_loaded("opensearch", "debian")
    ctx.settle("opensearch")
    for s in NAMES:
        ctx.system(s)
    results, rows = {}, []
    try:
        for i, layout in enumerate(LAYOUTS):
            results[layout] = measure_layout(ctx, layout, first=i == 0)
            rows += layout_rows(layout, results[layout], judged=layout == "split")
    finally:
        apply_layout(ctx, "shared")  # later scenarios get the whole machine back
    runs = [r for res in results.values() for part in ("closed", "open") for rs in res[part].values() for r in rs]
    rows.append(row("gateway RSS under load (peak)", "MB",
                    max(((r.get("server") or {}).get("rss_mb_max") or 0)
                        for res in results.values() for r in res["closed"]["gateway"]), None, better="lower"))
    errors = sum(r["errors"] for r in runs)
    if errors:
        rows.append(row("failed requests (all P5 runs)", "count", errors, None, better="lower"))
    return {"results": results, "rows": rows}
