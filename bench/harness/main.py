#!/usr/bin/env python3
"""bench/run's driver. Run it through bench/run (which builds the binaries); see BENCHMARKS.md.

A scenario is one file in bench/scenarios/ with ID, TITLE, ORDER and run(ctx) -> {"rows", "results"}
(raise core.Skip("why") to record a skip). Adding a scenario is adding such a file.
"""
import argparse
import datetime
import glob
import importlib
import json
import os
import signal
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "scenarios"))

import core  # noqa: E402
import report  # noqa: E402
from core import BENCH, CACHE, REPO, Context, Skip, log  # noqa: E402


def scenarios():
    found = {}
    for path in sorted(glob.glob(os.path.join(BENCH, "scenarios", "*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        if name.startswith("_"):
            continue
        mod = importlib.import_module(name)
        found[mod.ID.upper()] = mod
    return found


def parse_args(argv, known):
    ap = argparse.ArgumentParser(prog="bench/run", description="searchgate vs OpenSearch benchmarks")
    ap.add_argument("scenarios", nargs="*", metavar="SCENARIO", help=f"any of {', '.join(known)} (default: all)")
    ap.add_argument("--smoke", action="store_true",
                    help="tiny corpus, ~1 s steps, searchgate only, results outside the repo, no timing checks")
    ap.add_argument("--opensearch", dest="opensearch", action="store_true", default=None,
                    help="also run OpenSearch (default unless --smoke)")
    ap.add_argument("--no-opensearch", dest="opensearch", action="store_false")
    ap.add_argument("--duration", type=float, help="measured seconds per load run (default 20; smoke 1.5)")
    ap.add_argument("--warmup", type=float, help="warm-up seconds per load run (default 20; smoke 0.5)")
    ap.add_argument("--connections", type=int, default=8, help="closed-loop connections (default 8)")
    ap.add_argument("--docs", type=int, help="load only the first N docs of each corpus (smoke: 2000)")
    ap.add_argument("--data", default=os.path.normpath(os.path.join(REPO, "..", "shared", "data")),
                    help="corpora directory (default ../shared/data)")
    ap.add_argument("--out", help="results directory (default bench/results; smoke: ~/.cache/searchgate/bench/smoke)")
    ap.add_argument("--bulk-batch", type=int, default=1000, help="documents per bulk request (default 1000)")
    ap.add_argument("--bulk-concurrency", type=int, default=4, help="bulk requests in flight (default 4)")
    ap.add_argument("--os-heap", default="1g", help="OpenSearch heap (default 1g)")
    ap.add_argument("--os-heap3", default="512m", help="heap of each node of the 3-node cluster (default 512m)")
    ap.add_argument("--drop-caches", action="store_true", help="P7: drop the page cache before each start (root)")
    ap.add_argument("--no-report", action="store_true", help="do not regenerate BENCHMARKS.md and the chart")
    ap.add_argument("--list", action="store_true", help="list the scenarios and exit")
    ap.add_argument("--report-only", action="store_true",
                    help="only regenerate BENCHMARKS.md and the chart from the results directory")
    o = ap.parse_args(argv)
    if o.opensearch is None:
        o.opensearch = not o.smoke
    if o.duration is None:
        o.duration = 1.5 if o.smoke else 20.0
    if o.warmup is None:
        o.warmup = 0.5 if o.smoke else 20.0
    if o.docs is None and o.smoke:
        o.docs = 2000
    if o.out is None:
        o.out = os.path.join(CACHE, "smoke", "results") if o.smoke else os.path.join(BENCH, "results")
    return o


def main(argv):
    known = scenarios()
    opts = parse_args(argv, known)
    if opts.list:
        for sid, mod in sorted(known.items(), key=lambda kv: kv[1].ORDER):
            print(f"{sid:5} {mod.TITLE}")
        return 0
    if opts.report_only:
        md = os.path.join(REPO, "BENCHMARKS.md") if not opts.smoke else os.path.join(opts.out, "BENCHMARKS.md")
        report.write(opts.out, md, os.path.join(opts.out, "chart.svg"), smoke=opts.smoke)
        log(f"report: {md}, chart: {os.path.join(opts.out, 'chart.svg')}")
        return 0
    wanted = [s.upper() for s in opts.scenarios] or [k for k, _ in sorted(known.items(), key=lambda kv: kv[1].ORDER)]
    unknown = [s for s in wanted if s not in known]
    if unknown:
        log(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(known)}")
        return 64
    os.makedirs(opts.out, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    command = os.environ.get("BENCH_COMMAND", "bench/run " + " ".join(argv))
    mach = core.machine()
    t_all = time.monotonic()
    ctx = Context(opts)
    failed = []
    try:
        for sid in wanted:
            mod = known[sid]
            log(f"=== {sid}: {mod.TITLE}")
            t0 = time.monotonic()
            rec = {"scenario": sid, "title": mod.TITLE, "order": mod.ORDER, "smoke": opts.smoke,
                   "started_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                   "command": command, "machine": {**mach, "loadavg_at_scenario_start": os.getloadavg()},
                   "settings": {"duration_s": opts.duration, "warmup_s": opts.warmup,
                                "connections": opts.connections, "docs_limit": opts.docs,
                                "bulk_batch": opts.bulk_batch, "bulk_concurrency": opts.bulk_concurrency,
                                "opensearch_heap": opts.os_heap, "opensearch": opts.opensearch,
                                "drop_caches": opts.drop_caches}}
            try:
                out = mod.run(ctx)
                rec.update(status="ok", rows=out.get("rows", []), results=out.get("results"))
            except Skip as e:
                log(f"{sid}: skipped: {e}")
                print(f"{sid}: skipped: {e}")
                rec.update(status="skipped", reason=str(e), rows=[])
            except (Exception, SystemExit) as e:  # noqa: BLE001 - a failed scenario is recorded, then we go on
                if isinstance(e, SystemExit) and e.code == 143:
                    raise
                traceback.print_exc()
                log(f"{sid}: FAILED: {e}")
                rec.update(status="error", reason=f"{type(e).__name__}: {e}", rows=[])
                failed.append(sid)
            rec["elapsed_s"] = time.monotonic() - t0
            rec["versions"] = {"searchgate": _version(ctx, "searchgate"), "opensearch": _version(ctx, "opensearch"),
                               "rustc": mach["rustc"], "java": mach["java"],
                               "searchgate_binary": _binary(ctx.sg_bin)}
            with open(os.path.join(opts.out, f"{sid}.json"), "w") as f:
                json.dump(rec, f, indent=1, default=str)
                f.write("\n")
            log(f"=== {sid}: {rec['status']} ({rec['elapsed_s']:.1f}s) -> {os.path.join(opts.out, sid + '.json')}")
    finally:
        ctx.close()
    if not opts.no_report:
        md = os.path.join(REPO, "BENCHMARKS.md") if not opts.smoke else os.path.join(opts.out, "BENCHMARKS.md")
        report.write(opts.out, md, os.path.join(opts.out, "chart.svg"), smoke=opts.smoke)
        log(f"report: {md}, chart: {os.path.join(opts.out, 'chart.svg')}")
    log(f"done in {time.monotonic() - t_all:.1f}s" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def _binary(path):
    """Which build ran: the checkout's commit says nothing about a binary built earlier."""
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    st = os.stat(path)
    return {"path": path, "sha256": h.hexdigest()[:16],
            "built": datetime.datetime.fromtimestamp(st.st_mtime, datetime.timezone.utc).isoformat(timespec="seconds")}


def _version(ctx, name):
    s = ctx.systems.get(name)
    if s is not None:
        try:
            return s.version()
        except Exception:  # noqa: BLE001
            return None
    if name == "searchgate" and ctx.sg_bin:
        import subprocess
        return subprocess.run([ctx.sg_bin, "--version"], capture_output=True, text=True).stdout.strip()
    return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
