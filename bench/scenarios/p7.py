"""P7: cold start of `searchgate serve` on a data dir holding 100k+ docs until the first search
answers (a real match query with hits), vs OpenSearch's start until its first search answers.

The server is stopped gracefully (SIGTERM), then started again on the same data; the clock runs
from the exec (for OpenSearch: from `scripts/opensearch start --keep-data`) to the first answer
of a search with hits. The page cache is kept warm unless --drop-caches is given (root only; it
also affects everything else on the machine). Target: searchgate < 1 s.
"""
from core import row

ID = "P7"
TITLE = "cold start to first search answer"
ORDER = 40
REPEATS = 3


def run(ctx):
    rows, results = [], {}
    for s in ctx.system_names():
        rec = ctx.ensure_loaded(s, "debian")
        sysobj = ctx.system(s)
        n = REPEATS if s == "searchgate" else (1 if ctx.smoke else 2)
        tries = [sysobj.restart_timed("debian", drop_caches=ctx.opts.drop_caches) for _ in range(n)]
        firsts = sorted(t["first_search_s"] for t in tries)
        results[s] = {"docs": sum(ctx.loaded[(s, i)]["docs"] for i in ctx.loaded_indices(s)),
                      "indices": ctx.loaded_indices(s), "tries": tries,
                      "median_s": firsts[len(firsts) // 2], "max_s": firsts[-1],
                      "debian_docs": rec["docs"]}
    med = lambda s: results[s]["median_s"] if s in results else None  # noqa: E731
    sg = med("searchgate")
    rows.append(row("start to first search answer (median)", "s", sg, med("opensearch"), better="lower",
                    abs_target=1.0, note=f"{results['searchgate']['docs']:,} docs on disk"))
    results["target_met"] = sg is not None and sg < 1.0
    return {"results": results, "rows": rows}
