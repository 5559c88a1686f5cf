"""The systems under test. Each has: url, start(fresh), stop(), pid(), version(), restart_timed()."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

PROBE = {"query": {"match": {"description": "web server"}}, "size": 1}


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def free_port(preferred=None):
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return s.getsockname()[1]
            except OSError:
                continue
    raise RuntimeError("no free port")


def stop_process(proc, sig=signal.SIGTERM, timeout=10, what=None):
    """Sends `sig`, waits up to `timeout` s, then kills. Returns None (the new value of `proc`)."""
    if proc and proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            if what:
                log(f"{what} did not stop on {signal.Signals(sig).name}; killing it")
            proc.kill()
            proc.wait()
    return None


def drop_page_cache():
    """Writes back and drops the page cache (root only; affects the whole machine)."""
    subprocess.run(["sync"])
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def wait_ready(proc, ready, seconds, what, logfile):
    """Polls `ready()` until it is true, failing early if `proc` exits and after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}; see {logfile}")
        try:
            if ready():
                return
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not answer within {seconds} s")


def answers_root(url):
    return get_json(url + "/", timeout=1.0)[0] == 200


def get_json(url, body=None, timeout=2.0):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    if data:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, json.loads(r.read())


def wait_first_search(url, index, deadline, alive=lambda: True, interval=0.005):
    """Polls until a real search on `index` answers 200 with hits. Returns seconds waited or raises."""
    t0 = time.monotonic()
    first_root = None
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("process exited while starting")
        try:
            if first_root is None:
                st, _ = get_json(url + "/", timeout=1.0)
                if st == 200:
                    first_root = time.monotonic() - t0
            st, body = get_json(f"{url}/{index}/_search", PROBE, timeout=5.0)
            if st == 200 and body.get("hits", {}).get("hits"):
                return time.monotonic() - t0, first_root
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(interval)
    raise RuntimeError(f"no search answer from {url} in time")


class Searchgate:
    name = "searchgate"

    def __init__(self, binary, data_dir, work, extra_args=(), logname="searchgate.log", env=None):
        self.binary, self.data_dir, self.work = binary, data_dir, work
        self.extra_args = list(extra_args)
        self.env = {**os.environ, **(env or {})}
        self.port = free_port(int(os.environ.get("BENCH_SG_PORT", "0")) or None)
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.logfile = os.path.join(work, logname)

    def _spawn(self):
        logf = open(self.logfile, "a")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--data-dir", self.data_dir, "--listen", f"127.0.0.1:{self.port}"]
            + self.extra_args,
            stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env)
        logf.close()

    def start(self, fresh=True):
        if fresh and os.path.exists(self.data_dir):
            shutil.rmtree(self.data_dir)
        os.makedirs(self.data_dir, exist_ok=True)
        with open(self.logfile, "w"):
            pass
        self._spawn()
        wait_ready(self.proc, lambda: answers_root(self.url), 60, "searchgate", self.logfile)
        log(f"searchgate up at {self.url} (pid {self.proc.pid}, data {self.data_dir}"
            f"{', ' + ' '.join(self.extra_args) if self.extra_args else ''})")

    def stop(self, timeout=60):
        self.proc = stop_process(self.proc, signal.SIGTERM, timeout, what="searchgate")

    def pid(self):
        return self.proc.pid

    def version(self):
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True)
        return out.stdout.strip()

    def restart_timed(self, index, drop_caches=False):
        """Stops the server (graceful), starts it on the same data dir, and times the first search."""
        self.stop()
        if drop_caches:
            drop_page_cache()
        t0 = time.monotonic()
        self._spawn()
        first_search, first_root = wait_first_search(
            self.url, index, t0 + 120, alive=lambda: self.proc.poll() is None, interval=0.002)
        return {"first_search_s": first_search, "first_root_s": first_root}


class OpenSearch:
    name = "opensearch"

    def __init__(self, repo, cluster, heap="1g", nodes=1):
        self.script = os.path.join(repo, "scripts", "opensearch")
        self.cluster, self.heap, self.nodes = cluster, heap, nodes
        self.urls = []
        self.http_port = free_port(int(os.environ.get("BENCH_OS_PORT", "9290")))
        self.transport_port = free_port(int(os.environ.get("BENCH_OS_TRANSPORT_PORT", "9390")))
        self.url = f"http://127.0.0.1:{self.http_port}"
        state = os.environ.get("SEARCHGATE_RUN_DIR",
                               os.path.join(os.environ.get("SEARCHGATE_CACHE_DIR",
                                                           os.path.expanduser("~/.cache/searchgate")), "run"))
        self.state_dir = os.path.join(state, f"opensearch-{cluster}")
        self.started = False

    def _start_cmd(self, keep_data):
        cmd = [self.script, "start", "--name", self.cluster, "--nodes", str(self.nodes),
               "--http-port", str(self.http_port),
               "--transport-port", str(self.transport_port), "--heap", self.heap, "--timeout", "300"]
        return cmd + (["--keep-data"] if keep_data else [])

    def start(self, fresh=True):
        subprocess.run([self.script, "stop", "--name", self.cluster], capture_output=True)
        log(f"starting OpenSearch (cluster {self.cluster}, {self.nodes} node(s), heap {self.heap}, {self.url})")
        self.started = True
        out = subprocess.run(self._start_cmd(keep_data=not fresh), stdout=subprocess.PIPE, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"scripts/opensearch start failed ({out.returncode})")
        self.urls = [u.rstrip("/") for u in out.stdout.split()]
        self.url = self.urls[0]
        log(f"OpenSearch up at {self.url} (pid {self.pid()})")

    def stop(self):
        if self.started:
            subprocess.run([self.script, "stop", "--name", self.cluster], capture_output=True)
            self.started = False

    def pid(self):
        with open(os.path.join(self.state_dir, "node-1.pid")) as f:
            return int(f.read().strip())

    def version(self):
        try:
            return "OpenSearch " + get_json(self.url + "/")[1]["version"]["number"]
        except (urllib.error.URLError, OSError, ValueError, KeyError):
            return None

    def restart_timed(self, index, drop_caches=False):
        """Stops the node, starts it on the same data, and times the first search answer."""
        self.stop()
        if drop_caches:
            drop_page_cache()
        t0 = time.monotonic()
        self.started = True
        p = subprocess.Popen(self._start_cmd(keep_data=True), stdout=subprocess.PIPE, text=True)
        try:
            first_search, first_root = wait_first_search(self.url, index, t0 + 300, interval=0.02)
        finally:
            out, _ = p.communicate()
        return {"first_search_s": first_search, "first_root_s": first_root,
                "start_script_s": time.monotonic() - t0, "start_script_rc": p.returncode}


class FaultProxy:
    """One `sg-faultproxy` process in front of one node (tools/faultproxy): forwards bytes,
    optionally `latency_ms` late."""

    name = "faultproxy"

    def __init__(self, binary, target_url, latency_ms=0, work=None):
        self.binary, self.latency_ms = binary, latency_ms
        self.target = target_url.split("//", 1)[-1].rstrip("/")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.logfile = os.path.join(work or "/tmp", f"faultproxy-{self.port}.log")
        self.proc = None

    def start(self, fresh=True):
        logf = open(self.logfile, "w")
        self.proc = subprocess.Popen(
            [self.binary, "--listen", f"127.0.0.1:{self.port}", "--target", self.target,
             "--latency-ms", str(self.latency_ms)],
            stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        logf.close()

        def listening():
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True

        wait_ready(self.proc, listening, 10, "sg-faultproxy", self.logfile)

    def stop(self):
        self.proc = stop_process(self.proc, signal.SIGTERM)

    def pid(self):
        return self.proc.pid

    def version(self):
        return None


class Nginx:
    """nginx as a plain reverse proxy in front of one node: the reference for what any proxy
    costs on this machine (keep-alive to the node, no access log, one worker process). With
    `static_body` instead of a target it is the upstream itself: every request answered 200
    with that JSON (P5S, the proxies' own cost without a search engine behind them)."""

    name = "nginx"

    def __init__(self, target_url, work, static_body=None, name="nginx"):
        if (target_url is None) == (static_body is None):
            raise ValueError("nginx: a target URL or a static body")
        if static_body is not None and ("'" in static_body or "\\" in static_body):
            raise ValueError("nginx: the static body must not contain quotes or backslashes")
        self.name = name
        self.static_body = static_body
        self.target = target_url.split("//", 1)[-1].rstrip("/") if target_url else None
        self.dir = os.path.join(work, name)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.binary = shutil.which("nginx") or "/usr/sbin/nginx"

    def start(self, fresh=True):
        os.makedirs(self.dir, exist_ok=True)
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""daemon off;
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {self.dir}/body;
  proxy_temp_path {self.dir}/proxy;
  client_max_body_size 100m;
{self._server_conf()}
}}
""")
        self.proc = subprocess.Popen([self.binary, "-c", conf, "-p", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_ready(self.proc, lambda: answers_root(self.url), 10, "nginx", f"{self.dir}/error.log")
        log(f"{self.name} up at {self.url} (pid {self.proc.pid}) -> {self.target or 'a static answer'}")

    def _server_conf(self):
        if self.static_body is not None:
            return f"""  server {{
    listen 127.0.0.1:{self.port};
    location / {{
      default_type application/json;
      client_body_buffer_size 1m;
      return 200 '{self.static_body}';
    }}
  }}"""
        return f"""  upstream node {{ server {self.target}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{self.port};
    location / {{
      proxy_pass http://node;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}"""

    def stop(self):
        self.proc = stop_process(self.proc, signal.SIGQUIT)  # nginx's graceful stop

    def pid(self):
        """The worker's pid (the master only supervises): what the sampler should watch."""
        try:
            out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout.split()
            return int(out[0]) if out else self.proc.pid
        except (OSError, ValueError):
            return self.proc.pid

    def version(self):
        out = subprocess.run([self.binary, "-v"], capture_output=True, text=True)
        return (out.stderr or out.stdout).strip()
