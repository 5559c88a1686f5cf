"""P5: searchgate as a gateway in front of OpenSearch vs OpenSearch direct, P1's query mix.

Closed loop (ROUNDS rounds, alternating, best counts) for throughput, then open loop at the
same rate (half of the direct maximum) for the latency the gateway adds.
Targets: throughput >= 0.95x of direct, p50 + <= 0.2 ms.
In this table the "searchgate" column is the gateway and the "OpenSearch" column is direct.
"""
import subprocess

from core import Skip, row

ID = "P5"
TITLE = "gateway in front of OpenSearch vs direct"
ORDER = 50
QUERIES = ["debian.jsonl"]
ROUNDS = 2


def gateway_available(binary):
    out = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True).stdout
    return "--upstream" in out


def run(ctx):
    if not gateway_available(ctx.sg_bin):
        raise Skip("gateway mode not built")
    if not ctx.with_opensearch:
        raise Skip("needs OpenSearch (run without --smoke, or with --opensearch)")
    ctx.ensure_loaded("opensearch", "debian")
    ctx.settle("opensearch")
    ctx.system("gateway")
    names = {"gateway": "gateway", "opensearch": "direct"}
    closed = {s: [] for s in names}
    for i in range(1 if ctx.smoke else ROUNDS):
        for s in names:
            closed[s].append(ctx.measure(s, QUERIES, mode="closed", label=f"P5 closed {names[s]} round {i + 1}"))
    best = {s: max(closed[s], key=lambda r: r["qps"]) for s in names}
    rate = max(1.0, best["opensearch"]["qps"] * 0.5)
    opened = {s: [] for s in names}
    for i in range(1 if ctx.smoke else ROUNDS):
        for s in names:
            opened[s].append(ctx.measure(s, QUERIES, mode="open", rate=rate, connections=max(32, ctx.connections),
                                         warmup=min(ctx.warmup, 5.0), label=f"P5 open {names[s]} round {i + 1}"))
    p50 = {s: min((r["latency_ms"] or {}).get("p50", float("inf")) for r in opened[s]) for s in names}
    p99 = {s: min((r["latency_ms"] or {}).get("p99", float("inf")) for r in opened[s]) for s in names}
    rows = [row("closed-loop throughput, gateway ÷ direct", "req/s", best["gateway"]["qps"],
                best["opensearch"]["qps"], target=0.95,
                note="every round: gateway " + ", ".join(f"{r['qps']:.0f}" for r in closed["gateway"])
                     + "; direct " + ", ".join(f"{r['qps']:.0f}" for r in closed["opensearch"])),
            row(f"open loop @ {rate:.0f} req/s: p50, gateway vs direct", "ms", p50["gateway"], p50["opensearch"],
                better="lower"),
            row("p50 added by the gateway", "ms", p50["gateway"] - p50["opensearch"], None, better="lower",
                abs_target=0.2),
            row(f"open loop @ {rate:.0f} req/s: p99, gateway vs direct", "ms", p99["gateway"], p99["opensearch"],
                better="lower"),
            row("gateway CPU per request (closed loop)", "ms", best["gateway"].get("server_cpu_ms_per_request"),
                None, better="lower", note="the gateway process only"),
            row("gateway RSS under load (peak)", "MB", (best["gateway"].get("server") or {}).get("rss_mb_max"),
                None, better="lower")]
    errors = sum(r["errors"] for s in names for r in closed[s] + opened[s])
    if errors:
        rows.append(row("failed requests (all P5 runs)", "count", errors, None, better="lower"))
    return {"results": {"closed": closed, "open": opened, "rate": rate}, "rows": rows}
