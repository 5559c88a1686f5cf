"""P2: bulk-load all of debian-4releases (272,413 docs) and flights (336,776) into each system.

Same mapping file, same prepared bulk NDJSON, same batches (sg-loadgen bulk), fresh index.
docs/s counts the bulk requests until the last one is acknowledged; the refresh that makes
everything searchable is timed separately. Target: docs/s >= 3x OpenSearch.
"""
from core import row

ID = "P2"
TITLE = "bulk load, debian-4releases and flights"
ORDER = 10
CORPORA = ("debian", "flights")


def run(ctx):
    loads = {}
    rows = []
    for corpus in CORPORA:
        loads[corpus] = {s: ctx.ensure_loaded(s, corpus, force=True) for s in ctx.system_names()}
        r = loads[corpus]
        get = lambda s, k: r[s][k] if s in r else None  # noqa: E731
        ndocs = r["searchgate"]["docs"]
        rows.append(row(f"{corpus} ({ndocs:,} docs): bulk", "docs/s", get("searchgate", "docs_per_s"),
                        get("opensearch", "docs_per_s"), target=3.0,
                        note=f"batches of {ctx.opts.bulk_batch}, {ctx.opts.bulk_concurrency} in flight"))
        rows.append(row(f"{corpus}: bulk + refresh", "docs/s", get("searchgate", "docs_per_s_incl_refresh"),
                        get("opensearch", "docs_per_s_incl_refresh")))
        cpu = {s: (r[s]["server_during_load"] or {}).get("cpu_s") for s in r}
        rows.append(row(f"{corpus}: server CPU per 1k docs", "s",
                        cpu.get("searchgate") and 1000 * cpu["searchgate"] / ndocs,
                        cpu.get("opensearch") and 1000 * cpu["opensearch"] / ndocs, better="lower"))
    return {"results": loads, "rows": rows}
