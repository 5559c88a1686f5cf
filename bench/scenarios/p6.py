"""P6: one slow node of three. A three-node OpenSearch cluster (index with 1 shard and 2 replicas,
so every node holds the data) behind the gateway; each node is reached through its own
`sg-faultproxy`, and in the "slow" phases the proxy of node 1 adds 50 ms to everything sent to
it. Open loop at a fixed rate (RATE req/s, P1's query mix), so the latency is measured from the
intended send time and a stall is not hidden (no coordinated omission).

Phases, in every round: all healthy and one slow, each with the default balancer (p2c over
peak-EWMA) and with round robin for contrast. Each phase starts fresh proxies and a fresh
gateway, so no balancer carries what it learned into the next phase. Before the first round a
round-robin gateway sends the same queries to all three nodes for three times the warm-up time
(JIT, caches), uncounted. The figure of a phase is the median over ROUNDS rounds.
Target: p99 with one slow node ≤ 1.25 × the all-healthy p99 under peak-EWMA.
In this table the "searchgate" column is the slow-node phase and "OpenSearch" the healthy one.
"""
import os

from core import Skip, http, log, row
from systems import FaultProxy, Searchgate

ID = "P6"
TITLE = "one slow node of three (+50 ms): peak-EWMA vs round robin"
ORDER = 55
RATE = float(os.environ.get("BENCH_P6_RATE", "100"))
SLOW_MS = 50
ROUNDS = 3
QUERIES = ["debian.jsonl"]
PHASES = [("healthy", "p2c_peak_ewma"), ("slow", "p2c_peak_ewma"),
          ("slow", "round_robin"), ("healthy", "round_robin")]


def gateway_config(path, nodes, balancer):
    with open(path, "w") as f:
        f.write("[[clusters]]\nname = \"bench3\"\n")
        f.write("nodes = [" + ", ".join(f'"{u}"' for u in nodes) + "]\n")
        f.write(f"balancer = \"{balancer}\"\n")


def run_phase(ctx, os3, health, balancer, rnd, duration=None):
    proxies = [FaultProxy(ctx.faultproxy_bin, u, latency_ms=SLOW_MS if (health == "slow" and i == 0) else 0,
                          work=ctx.work) for i, u in enumerate(os3.urls)]
    gw = None
    try:
        for p in proxies:
            p.start()
        cfg = os.path.join(ctx.work, f"p6-{health}-{balancer}.toml")
        gateway_config(cfg, [p.url for p in proxies], balancer)
        gw = Searchgate(ctx.sg_bin, os.path.join(ctx.work, "p6-gateway-data"), ctx.work,
                        extra_args=["--config", cfg], logname="p6-gateway.log")
        gw.name = f"gateway[{balancer}, {health}]"
        gw.start(fresh=True)
        r = ctx.measure(gw, QUERIES, mode="open", rate=RATE, connections=max(32, ctx.connections),
                        duration=duration, warmup=min(ctx.warmup, 10.0),
                        label=f"P6 {health} {balancer} round {rnd}")
        st, view = http("GET", gw.url + "/_searchgate/nodes")
        nodes = (view or {}).get("clusters", [view])[0].get("nodes", []) if st == 200 else []
        by_url = {n.get("url", "").rstrip("/"): n.get("requests", 0) for n in nodes}
        counts = [by_url.get(p.url, 0) for p in proxies]
        r["node_requests"] = counts
        r["slow_node_share"] = counts[0] / sum(counts) if health == "slow" and sum(counts) else None
        if r["slow_node_share"] is not None:
            log(f"P6 {balancer}: the slow node got {100 * r['slow_node_share']:.2f}% of {sum(counts)} requests")
        return r
    finally:
        if gw:
            gw.stop()
        for p in proxies:
            p.stop()


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    return xs[len(xs) // 2] if xs else None


def run(ctx):
    if not ctx.with_opensearch:
        raise Skip("needs OpenSearch (run without --smoke, or with --opensearch)")
    if not ctx.faultproxy_bin or not os.access(ctx.faultproxy_bin, os.X_OK):
        raise Skip("sg-faultproxy not built (SG_FAULTPROXY_BIN)")
    # the single-node cluster and its gateway would share the two cores with this one
    for other in ("gateway", "nginx", "opensearch"):
        ctx.stop_system(other)
    os3 = ctx.system("opensearch3")
    ctx.ensure_loaded("opensearch3", "debian", settings={"number_of_shards": 1, "number_of_replicas": 2})
    st, health = http("GET", os3.url + "/_cluster/health/debian?wait_for_status=green&timeout=300s", timeout=310)
    if st != 200 or health.get("status") != "green":
        raise Skip(f"the 3-node cluster is not green: {st} {health}")
    ctx.settle("opensearch3")
    # the nodes' JIT and caches: every node answers queries for a while before anything counts
    log("P6: warming the three nodes up through a round-robin gateway (not counted)")
    run_phase(ctx, os3, "healthy", "round_robin", 0, duration=max(3 * ctx.warmup, 1.0))
    runs = {f"{h}/{b}": [] for h, b in PHASES}
    for rnd in range(1, ROUNDS + 1):
        for h, b in PHASES:
            runs[f"{h}/{b}"].append(run_phase(ctx, os3, h, b, rnd))

    def pct(key, p):
        return median([(r["latency_ms"] or {}).get(p) for r in runs[key]])

    def share(key):
        return median([r.get("slow_node_share") for r in runs[key]])

    errors = sum(r["errors"] for rs in runs.values() for r in rs)
    p2c, rr = "p2c_peak_ewma", "round_robin"
    rows = [
        row("p99, one slow node ÷ all healthy (p2c peak-EWMA)", "ms", pct(f"slow/{p2c}", "p99"),
            pct(f"healthy/{p2c}", "p99"), target=1.25, better="lower",
            note=f"open loop {RATE:.0f} req/s; median of {ROUNDS} rounds; every round slow: "
                 + ", ".join(f"{r['latency_ms']['p99']:.1f}" for r in runs[f"slow/{p2c}"] if r["latency_ms"])
                 + "; healthy: "
                 + ", ".join(f"{r['latency_ms']['p99']:.1f}" for r in runs[f"healthy/{p2c}"] if r["latency_ms"])),
        row("p99, one slow node ÷ all healthy (round robin, for contrast)", "ms", pct(f"slow/{rr}", "p99"),
            pct(f"healthy/{rr}", "p99"), better="lower"),
        row("p50, one slow node ÷ all healthy (p2c peak-EWMA)", "ms", pct(f"slow/{p2c}", "p50"),
            pct(f"healthy/{p2c}", "p50"), better="lower"),
        row("p50, one slow node ÷ all healthy (round robin)", "ms", pct(f"slow/{rr}", "p50"),
            pct(f"healthy/{rr}", "p50"), better="lower"),
        row("share of requests sent to the slow node, p2c peak-EWMA ÷ round robin", "%",
            100 * share(f"slow/{p2c}") if share(f"slow/{p2c}") is not None else None,
            100 * share(f"slow/{rr}") if share(f"slow/{rr}") is not None else None, better="lower"),
    ]
    if errors:
        rows.append(row("failed requests (all P6 runs)", "count", errors, None, better="lower"))
    return {"results": {"rate": RATE, "slow_ms": SLOW_MS, "rounds": ROUNDS, "runs": runs}, "rows": rows}
