"""The harness's context: which systems run, what is loaded, how to measure.

Scenarios get a `Context` and use only its methods: `ctx.system(name)` starts a system on
first use, `ctx.ensure_loaded(system, corpus)` loads a corpus once per run, `ctx.loadgen(...)`
runs sg-loadgen, `ctx.sample_process(...)` samples RSS/CPU. Everything started is stopped by
`ctx.close()` (main calls it in a finally block and on SIGINT/SIGTERM).
"""
import json
import lzma
import os
import platform
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from systems import Nginx, OpenSearch, Searchgate

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BENCH = os.path.join(REPO, "bench")
CACHE = os.path.join(os.environ.get("SG_CACHE", os.path.expanduser("~/.cache/searchgate")), "bench")

# Corpora: file in the shared data dir, mapping, index name, number of documents.
CORPORA = {
    "debian": {"file": "debian-4releases.ndjson.xz", "mapping": "debian.json", "docs": 272413},
    "flights": {"file": "flights-nyc-2013.ndjson.xz", "mapping": "flights.json", "docs": 336776},
}


class Skip(Exception):
    """Raised by a scenario that cannot run here (recorded as skipped, not as a failure)."""


class ScenarioError(Exception):
    """Raised by a scenario whose measurement went wrong (recorded, makes bench/run fail)."""


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def http(method, url, body=None, ctype="application/json", timeout=60):
    """Small HTTP helper: returns (status, parsed JSON or text)."""
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def proc_status(pid):
    """RSS figures (MB) and CPU seconds of a process from /proc."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM"):
                out[k] = int(v.split()[0]) / 1024.0
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tck = os.sysconf("SC_CLK_TCK")
    out["cpu_s"] = (int(fields[11]) + int(fields[12])) / tck
    out["threads"] = int(fields[17])
    return out


class Sampler:
    """Samples a process's RSS and CPU every `interval` seconds in a thread."""

    def __init__(self, pid, interval=0.2):
        self.pid, self.interval = pid, interval
        self.samples = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                s = proc_status(self.pid)
                s["t"] = time.monotonic()
                self.samples.append(s)
            except OSError:
                pass
            self._stop.wait(self.interval)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()

    def cpu_last(self, seconds):
        """CPU seconds used in the last `seconds` of sampling (the measured part of a run whose
        warm-up came first), from the samples bracketing that window."""
        if len(self.samples) < 2:
            return None
        last = self.samples[-1]
        start = next((s for s in self.samples if s["t"] >= last["t"] - seconds), self.samples[0])
        span = last["t"] - start["t"]
        if span <= 0:
            return None
        return (last["cpu_s"] - start["cpu_s"]) * seconds / span

    def summary(self):
        if not self.samples:
            return None
        rss = [s["VmRSS"] for s in self.samples]
        anon = [s.get("RssAnon", 0) for s in self.samples]
        first, last = self.samples[0], self.samples[-1]
        dt = max(last["t"] - first["t"], 1e-9)
        return {
            "rss_mb_max": max(rss),
            "rss_mb_mean": sum(rss) / len(rss),
            "rss_anon_mb_max": max(anon),
            "cpu_s": last["cpu_s"] - first["cpu_s"],
            "cpu_cores_used": (last["cpu_s"] - first["cpu_s"]) / dt,
            "samples": len(rss),
        }


def machine():
    def cmd(*a):
        try:
            return subprocess.run(a, capture_output=True, text=True, timeout=20).stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            return None

    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    model = None
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    osname = None
    if os.path.exists("/etc/os-release"):
        with open("/etc/os-release") as f:
            m = re.search(r'^PRETTY_NAME="?([^"\n]*)', f.read(), re.M)
            osname = m.group(1) if m else None
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()
    dirty = cmd("git", "-C", REPO, "status", "--porcelain", "--untracked-files=no")
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "os": osname,
        "rustc": cmd("rustc", "--version"),
        "java": java[0] if java else None,
        "python": platform.python_version(),
        "git_commit": (cmd("git", "-C", REPO, "rev-parse", "--short", "HEAD") or "?") + ("+dirty" if dirty else ""),
        "loadavg_at_start": os.getloadavg(),
        "shared_machine_note": "2-core machine shared with other engineers' builds; "
                               "loadgen runs on the same cores as the server",
    }


class Context:
    def __init__(self, opts):
        self.opts = opts
        self.smoke = opts.smoke
        self.out_dir = opts.out
        self.with_opensearch = opts.opensearch
        self.warmup = opts.warmup
        self.duration = opts.duration
        self.connections = opts.connections
        self.doc_limit = opts.docs
        self.data_dir = opts.data
        self.systems = {}
        self.loaded = {}      # (system, index) -> load record
        self.load_history = []
        self.sg_bin = os.environ.get("SEARCHGATE_BIN")
        self.faultproxy_bin = os.environ.get("SG_FAULTPROXY_BIN")
        self.loadgen_bin = os.environ.get("SG_LOADGEN_BIN")
        for b, what in ((self.sg_bin, "SEARCHGATE_BIN"), (self.loadgen_bin, "SG_LOADGEN_BIN")):
            if not b or not os.access(b, os.X_OK):
                raise SystemExit(f"bench: {what} is not an executable ({b}); run through bench/run")
        self.work = os.path.join(CACHE, getattr(opts, "work_name", None) or ("smoke" if self.smoke else "run"))
        os.makedirs(self.work, exist_ok=True)
        self.tmp_results = os.path.join(self.work, "loadgen")
        os.makedirs(self.tmp_results, exist_ok=True)
        self.loadgen_cpus = None  # a taskset CPU list for sg-loadgen (see `pin`), None: any CPU

    # ------------------------------------------------------------ systems

    def system_names(self):
        return ["searchgate"] + (["opensearch"] if self.with_opensearch else [])

    def system(self, name):
        s = self.systems.get(name)
        if s is None:
            if name == "searchgate":
                s = Searchgate(self.sg_bin, os.path.join(self.work, "searchgate-data"), self.work)
            elif name == "gateway":
                upstream = self.system("opensearch").url
                # one worker thread, as nginx gets one worker process: on two cores shared with
                # OpenSearch a second thread only adds wake-ups (P5 measured 117 vs 97 us/request)
                s = Searchgate(self.sg_bin, os.path.join(self.work, "gateway-data"), self.work,
                               extra_args=["--upstream", upstream], logname="gateway.log",
                               env={"SEARCHGATE_HTTP__WORKER_THREADS": "1"})
                s.name = "gateway"
            elif name == "nginx":
                s = Nginx(self.system("opensearch").url, self.work)
            elif name == "opensearch":
                s = OpenSearch(REPO, "bench-smoke" if self.smoke else "bench", heap=self.opts.os_heap)
            elif name == "opensearch3":
                s = OpenSearch(REPO, "bench3-smoke" if self.smoke else "bench3", heap=self.opts.os_heap3, nodes=3)
            else:
                raise ValueError(name)
            self.systems[name] = s
            s.start(fresh=True)
            self.loaded = {k: v for k, v in self.loaded.items() if k[0] != name}
        return s

    def pin(self, system, cpus):
        """Restricts every thread of a started system (a name or a system object) to `cpus`, a
        taskset CPU list ("0", "1", "0-1"); threads it starts later inherit it. `None` lifts it."""
        s = self.systems[system] if isinstance(system, str) else system
        cpus = cpus or f"0-{(os.cpu_count() or 1) - 1}"
        subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(s.pid())], check=True, capture_output=True)

    def stop_system(self, name):
        """Stops one system now (e.g. to free the cores before the next scenario)."""
        s = self.systems.pop(name, None)
        if s is not None:
            s.stop()
            self.loaded = {k: v for k, v in self.loaded.items() if k[0] != name}

    def close(self):
        for name, s in list(self.systems.items()):
            try:
                s.stop()
            except Exception as e:  # noqa: BLE001 - keep stopping the others
                log(f"stopping {name}: {e}")
        self.systems.clear()

    # ------------------------------------------------------------ corpora

    def bulk_file(self, corpus):
        """The corpus as bulk NDJSON (`_id` moved to the action line), cached outside the clone."""
        spec = CORPORA[corpus]
        src = os.path.join(self.data_dir, spec["file"])
        st = os.stat(src)
        limit = self.doc_limit
        name = f"{corpus}.{limit if limit else 'all'}.{st.st_size}.bulk.ndjson"
        path = os.path.join(CACHE, "data", name)
        if os.path.exists(path):
            with open(path + ".docs") as f:
                return path, int(f.read())
        os.makedirs(os.path.dirname(path), exist_ok=True)
        t0 = time.monotonic()
        n = 0
        tmp = path + ".tmp"
        with lzma.open(src, "rt", encoding="utf-8") as fin, open(tmp, "w", encoding="utf-8") as fout:
            for line in fin:
                if limit and n >= limit:
                    break
                d = json.loads(line)
                doc_id = d.pop("_id")
                fout.write('{"index":{"_id":%s}}\n' % json.dumps(doc_id, ensure_ascii=False))
                fout.write(json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n")
                n += 1
        os.replace(tmp, path)
        with open(path + ".docs", "w") as f:
            f.write(str(n))
        log(f"prepared {path} ({n} docs) in {time.monotonic() - t0:.1f}s")
        return path, n

    def ensure_loaded(self, system, corpus, force=False, settings=None):
        """Creates index `corpus` with the shared mapping and bulk-loads it, once per run.
        `settings` (e.g. shards and replicas) are merged into the mapping file's."""
        key = (system, corpus)
        if key in self.loaded and not force:
            return self.loaded[key]
        s = self.system(system)
        path, ndocs = self.bulk_file(corpus)
        with open(os.path.join(self.data_dir, "mappings", CORPORA[corpus]["mapping"])) as f:
            mapping = json.load(f)
        if settings:
            mapping.setdefault("settings", {}).update(settings)
        http("DELETE", f"{s.url}/{corpus}")
        st, body = http("PUT", f"{s.url}/{corpus}", mapping)
        if st != 200:
            raise ScenarioError(f"{system}: PUT /{corpus} -> {st}: {str(body)[:300]}")
        log(f"{system}: loading {ndocs} docs into {corpus}")
        out = os.path.join(self.tmp_results, f"bulk-{system}-{corpus}.json")
        t0 = time.monotonic()
        with Sampler(s.pid()) as smp:
            r = self.run_loadgen(["bulk", "--url", s.url, "--index", corpus, "--file", path,
                                  "--batch", str(self.opts.bulk_batch),
                                  "--concurrency", str(self.opts.bulk_concurrency), "--out", out])
            t1 = time.monotonic()
            st, body = http("POST", f"{s.url}/{corpus}/_refresh", timeout=600)
            t2 = time.monotonic()
        if st != 200:
            raise ScenarioError(f"{system}: _refresh -> {st}: {str(body)[:300]}")
        st, body = http("GET", f"{s.url}/{corpus}/_count")
        count = body.get("count") if isinstance(body, dict) else None
        if count != ndocs:
            raise ScenarioError(f"{system}: {corpus} holds {count} docs after the load, expected {ndocs}")
        settle = self.settle(system)
        rec = {
            "system": system, "index": corpus, "docs": ndocs, "settle": settle,
            "bulk": r, "bulk_s": t1 - t0, "refresh_s": t2 - t1,
            "docs_per_s": r["docs_per_s"], "docs_per_s_incl_refresh": ndocs / (t2 - t0),
            "server_during_load": smp.summary(), "rss_after_load": proc_status(s.pid()),
        }
        log(f"{system}: {corpus}: {r['docs_per_s']:.0f} docs/s (bulk {t1 - t0:.1f}s, refresh {t2 - t1:.2f}s)")
        self.loaded[key] = rec
        self.load_history.append(rec)
        return rec

    def settle(self, system, idle_cores=0.05, window=None, limit=None):
        """Waits until the server's own CPU use stays below `idle_cores` for `window` seconds
        (background merges after a load, JIT compilation), at most `limit` seconds.
        Searches are measured on a settled system, as a user would see it a while after a load."""
        limit = limit if limit is not None else (5.0 if self.smoke else 300.0)
        window = window if window is not None else (1.0 if self.smoke else 3.0)
        pid = self.system(system).pid()
        t0 = time.monotonic()
        last_cpu, last_t = proc_status(pid)["cpu_s"], t0
        quiet_since = None
        while True:
            time.sleep(0.5)
            now = time.monotonic()
            cpu = proc_status(pid)["cpu_s"]
            busy = (cpu - last_cpu) / (now - last_t)
            last_cpu, last_t = cpu, now
            if busy < idle_cores:
                quiet_since = quiet_since or now
                if now - quiet_since >= window:
                    break
            else:
                quiet_since = None
            if now - t0 > limit:
                log(f"{system}: still busy ({busy:.2f} cores) after {limit:.0f}s; measuring anyway")
                break
        waited = time.monotonic() - t0
        if waited > window + 1:
            log(f"{system}: settled after {waited:.1f}s of background work")
        return {"settle_s": waited}

    def load_and_settle(self, corpus):
        """Every system of this run: `corpus` loaded, then settled (the common start of the
        search scenarios). Returns the system names."""
        systems = self.system_names()
        for s in systems:
            self.ensure_loaded(s, corpus)
        for s in systems:
            self.settle(s)
        return systems

    def loaded_indices(self, system):
        return sorted(idx for (s, idx) in self.loaded if s == system)

    # ------------------------------------------------------------ measuring

    def run_loadgen(self, args):
        """Runs sg-loadgen; returns its JSON result (the file named by --out) and its CPU use."""
        out = args[args.index("--out") + 1]
        cmd = (["taskset", "-c", self.loadgen_cpus] if self.loadgen_cpus else []) + [self.loadgen_bin] + args
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        result = None
        if os.path.exists(out):
            with open(out) as f:
                result = json.load(f)
            os.remove(out)
        if p.returncode != 0 or result is None:
            raise ScenarioError(f"sg-loadgen failed ({p.returncode}): {' '.join(cmd)}")
        result["loadgen_cpu_s"] = ru.ru_utime + ru.ru_stime
        return result

    def query_file(self, name):
        return os.path.join(BENCH, "queries", name)

    def measure(self, system, query_files, mode="closed", rate=None, connections=None, duration=None,
                warmup=None, kinds=None, exclude_kinds=None, label=None):
        """One sg-loadgen run against a system (a name, or a started system object), with the
        server's RSS and CPU sampled meanwhile."""
        s = self.system(system) if isinstance(system, str) else system
        system = s.name
        out = os.path.join(self.tmp_results, f"run-{system}-{mode}.json")
        args = ["run", "--url", s.url, "--mode", mode,
                "--connections", str(connections or self.connections),
                "--duration", str(duration if duration is not None else self.duration),
                "--warmup", str(warmup if warmup is not None else self.warmup), "--out", out]
        for q in query_files:
            args += ["--queries", self.query_file(q)]
        if rate:
            args += ["--rate", f"{rate:.1f}"]
        if kinds:
            args += ["--kinds", ",".join(kinds)]
        if exclude_kinds:
            args += ["--exclude-kinds", ",".join(exclude_kinds)]
        if label:
            args += ["--label", label]
        with Sampler(s.pid()) as smp:
            r = self.run_loadgen(args)
        r["server"] = smp.summary()
        measured_cpu = smp.cpu_last(r.get("elapsed_s") or 0)
        if r["server"] and r["ok"] and measured_cpu is not None:
            # the measured window only: the warm-up's requests are not in `ok`
            r["server"]["cpu_s_measured"] = measured_cpu
            r["server_cpu_ms_per_request"] = 1000.0 * measured_cpu / max(r["ok"] + r["errors"], 1)
        log(f"{system}: {mode}{' @' + format(rate, '.0f') + '/s' if rate else ''}: {r['qps']:.0f} req/s, "
            f"p50 {fmt_ms(r['latency_ms'], 'p50')} p99 {fmt_ms(r['latency_ms'], 'p99')} ms, "
            f"{r['errors']} errors")
        return r


    def warm_until_stable(self, system, query_files, step=10.0, tolerance=0.05, limit=180.0, at_least=None):
        """Closed-loop runs of `step` seconds until three in a row agree within `tolerance` in
        throughput and `at_least` seconds have passed (a JVM's JIT pauses between gains, so two
        equal steps are not yet the plateau), at most `limit` seconds. Nothing of it is counted;
        returns the throughput of each step."""
        at_least = at_least if at_least is not None else (0.0 if self.smoke else 90.0)
        seen = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < limit:
            r = self.measure(system, query_files, mode="closed", duration=step, warmup=0,
                             label=f"warm-up step {len(seen) + 1} (not counted)")
            seen.append(r["qps"])
            last = seen[-3:]
            # agreeing, and not still climbing (617, 640, 646 agree within 5 % but were a JIT
            # on its way to 1,100 req/s)
            if (len(last) == 3 and min(last) >= (1 - tolerance) * max(last)
                    and last[-1] <= (1 + tolerance / 2) * last[0]
                    and time.monotonic() - t0 >= at_least):
                break
        log(f"{system}: warm after {time.monotonic() - t0:.0f}s: " + ", ".join(f"{q:.0f}" for q in seen) + " req/s")
        return seen


def fmt_ms(lat, key):
    return "-" if not lat else f"{lat[key]:.2f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def row(metric, unit, sg, os_, target=None, better="higher", note=None, abs_target=None):
    """One line of the results table: searchgate, OpenSearch and their ratio (sg ÷ OS).

    `target` is a ratio to reach (>= when better is "higher", <= when "lower"); `abs_target`
    is a bound on searchgate's own value instead (e.g. cold start < 1 s).
    """
    r = ratio(sg, os_)
    met = None
    if target is not None and r is not None:
        met = r >= target if better == "higher" else r <= target
    if abs_target is not None and sg is not None:
        met = sg >= abs_target if better == "higher" else sg < abs_target
    return {"metric": metric, "unit": unit, "searchgate": sg, "opensearch": os_, "ratio": r,
            "target": target, "abs_target": abs_target, "better": better, "met": met, "note": note}
