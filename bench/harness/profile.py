#!/usr/bin/env python3
"""Profile the embedded server's write path (bulk load) and read path (P1 query mix) with perf.

    bench/profile [--docs N] [--seconds S] [--freq HZ]

Starts `searchgate serve` (release, debug=1 symbols) on a fresh data dir, records
`perf record -g --call-graph dwarf` on its pid while the debian corpus is bulk-loaded (write),
then while sg-loadgen runs the P1 query mix closed-loop (read), and writes flat (self time)
and caller reports to ~/.cache/searchgate/bench/profile/{write,read}.{self,children}.txt.
"""
import argparse
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from core import CACHE, REPO, Context, log  # noqa: E402


class Perf:
    def __init__(self, pid, out, freq):
        self.out = out
        self.p = subprocess.Popen(["perf", "record", "-F", str(freq), "-g", "--call-graph", "dwarf,32768",
                                   "-p", str(pid), "-o", out], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        time.sleep(0.5)

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        self.p.wait(120)


def report(data, prefix):
    for mode, extra in (("self", ["--no-children"]), ("children", ["--children"])):
        with open(f"{prefix}.{mode}.txt", "w") as f:
            subprocess.run(["perf", "report", "-i", data, "--stdio", "--demangle",
                            "--percent-limit", "0.7", "-g", "none", "--sort", "symbol"] + extra,
                           stdout=f, stderr=subprocess.DEVNULL)
    with open(f"{prefix}.dso.txt", "w") as f:
        subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso", "-g", "none"],
                       stdout=f, stderr=subprocess.DEVNULL)
    with open(f"{prefix}.graph.txt", "w") as f:
        subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--percent-limit", "2",
                        "-g", "caller,0.5,callee,function,percent", "--sort", "symbol"],
                       stdout=f, stderr=subprocess.DEVNULL)
    log(f"wrote {prefix}.{{self,children,dso,graph}}.txt")


def main():
    ap = argparse.ArgumentParser(prog="bench/profile")
    ap.add_argument("--docs", type=int, default=None, help="load only the first N docs (default all)")
    ap.add_argument("--seconds", type=float, default=20.0, help="read-path recording (default 20)")
    ap.add_argument("--freq", type=int, default=199, help="samples/s (default 199)")
    ap.add_argument("--connections", type=int, default=8)
    a = ap.parse_args()
    opts = argparse.Namespace(smoke=False, out=None, opensearch=False, warmup=3.0, duration=a.seconds,
                              connections=a.connections, docs=a.docs,
                              data=os.path.normpath(os.path.join(REPO, "..", "shared", "data")),
                              bulk_batch=1000, bulk_concurrency=4, os_heap="1g", drop_caches=False,
                              work_name="profile")
    outdir = os.path.join(CACHE, "profile")
    os.makedirs(outdir, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ctx = Context(opts)
    try:
        sg = ctx.system("searchgate")
        ctx.bulk_file("debian")
        perf = Perf(sg.pid(), os.path.join(outdir, "write.data"), a.freq)
        try:
            rec = ctx.ensure_loaded("searchgate", "debian")
        finally:
            perf.stop()
        log(f"write path: {rec['docs_per_s']:.0f} docs/s under perf")
        ctx.measure("searchgate", ["debian.jsonl"], duration=2, warmup=0)  # warm the reader
        perf = Perf(sg.pid(), os.path.join(outdir, "read.data"), a.freq)
        try:
            r = ctx.measure("searchgate", ["debian.jsonl"], warmup=0)
        finally:
            perf.stop()
        log(f"read path: {r['qps']:.0f} req/s under perf")
    finally:
        ctx.close()
    for which in ("write", "read"):
        report(os.path.join(outdir, f"{which}.data"), os.path.join(outdir, which))
    return 0


if __name__ == "__main__":
    sys.exit(main())
