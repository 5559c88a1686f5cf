"""A tiny HTTP proxy that lets elasticsearch-py talk to a real OpenSearch node, to check this suite's own
expectations (not part of the suite, not used in CI).

elasticsearch-py 8/9 refuses a server without `X-Elastic-Product: Elasticsearch` and sends vendor media types
(`application/vnd.elasticsearch+json; compatible-with=N`) that OpenSearch rejects. This proxy:
- rewrites vendor media types in Content-Type/Accept to plain application/json / application/x-ndjson;
- drops `"exclude_vectors": false` from `_source` in search bodies (elasticsearch-py 9's dsl adds it);
- adds `X-Elastic-Product: Elasticsearch` to every response and reports version.number 8.19.0 on `GET /`
  (version.distribution stays "opensearch", so the suite still knows what it talks to).

    python tests/clients/tools/os_compat_proxy.py --upstream http://127.0.0.1:9250 --port 9299
    SEARCHGATE_URL=http://127.0.0.1:9299 pytest tests/clients
"""

import argparse
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

VENDOR = re.compile(r"application/vnd\.elasticsearch\+(json|x-ndjson)\s*;\s*compatible-with=\d+", re.I)
HOP = {"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length", "host"}
_local = threading.local()


def _session():
    if not hasattr(_local, "s"):
        _local.s = requests.Session()
    return _local.s


def _plain(value):
    return VENDOR.sub(lambda m: "application/" + m.group(1), value)


def _strip_exclude_vectors(path, body):
    if not body or "_search" not in path or b"exclude_vectors" not in body:
        return body
    try:
        doc = json.loads(body)
    except ValueError:
        return body
    src = doc.get("_source")
    if isinstance(src, dict):
        src.pop("exclude_vectors", None)
        if not src:
            doc.pop("_source")
    return json.dumps(doc).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = ""

    def log_message(self, *args):
        pass

    def _forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: _plain(v) for k, v in self.headers.items() if k.lower() not in HOP}
        body = _strip_exclude_vectors(self.path, body)
        try:
            r = _session().request(self.command, self.upstream + self.path, data=body, headers=headers,
                                   timeout=300, allow_redirects=False)
        except requests.RequestException as e:
            self.send_response(502)
            data = json.dumps({"error": f"proxy: {e}"}).encode()
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        content = r.content
        if self.command == "GET" and self.path.split("?")[0] == "/" and r.status_code == 200:
            info = r.json()
            if "number" in info.get("version", {}):
                info["version"]["number"] = "8.19.0"
                info["version"]["build_flavor"] = "default"
                content = json.dumps(info).encode()
        self.send_response(r.status_code)
        for k, v in r.headers.items():
            if k.lower() not in HOP:
                self.send_header(k, v)
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _forward


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port", type=int, default=9299)
    args = ap.parse_args()
    Handler.upstream = args.upstream.rstrip("/")
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"proxy http://127.0.0.1:{args.port} -> {Handler.upstream}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
