"""P3: resident memory (RSS) after the load and under the P1 load, both systems.

RSS is VmRSS of the server process (the JVM for OpenSearch, heap 1 GB) from /proc; the
anonymous part (heap, caches) is given beside it, since both engines also map index files
(file-backed pages count in RSS once touched). Target: searchgate <= 1/10 of OpenSearch.
"""
import time

from core import Sampler, proc_status, row

ID = "P3"
TITLE = "memory: RSS after load and under the P1 load"
ORDER = 30


def run(ctx):
    systems = ctx.load_and_settle("debian")
    idle, under = {}, {}
    for s in systems:
        pid = ctx.system(s).pid()
        with Sampler(pid, interval=0.2) as smp:
            time.sleep(1.0)
        idle[s] = {"indices": ctx.loaded_indices(s), **smp.summary(), "status": proc_status(pid)}
        r = ctx.measure(s, ["debian.jsonl"], mode="closed", label=f"P3 under load {s}")
        under[s] = {"qps": r["qps"], **r["server"]}
    g = lambda d, s, k: d[s][k] if s in d else None  # noqa: E731
    note = "indices: " + ", ".join(idle[systems[0]]["indices"])
    rows = [row("RSS after load (idle)", "MB", g(idle, "searchgate", "rss_mb_max"),
                g(idle, "opensearch", "rss_mb_max"), target=0.1, better="lower", note=note),
            row("RSS under P1 load (peak)", "MB", g(under, "searchgate", "rss_mb_max"),
                g(under, "opensearch", "rss_mb_max"), target=0.1, better="lower"),
            row("anonymous RSS under P1 load (peak)", "MB", g(under, "searchgate", "rss_anon_mb_max"),
                g(under, "opensearch", "rss_anon_mb_max"), better="lower",
                note="heap/allocations without mapped index files")]
    return {"results": {"after_load": idle, "under_load": under,
                        "loads": [{k: v for k, v in rec.items() if k != "bulk"} for rec in ctx.load_history]},
            "rows": rows}
