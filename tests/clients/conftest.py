"""Fixtures for the client test suite.

Server under test:
- `SEARCHGATE_URL` set: use that server (a running searchgate, or a real Elasticsearch/OpenSearch
  node to check the suite's own expectations).
- otherwise: spawn `$SEARCHGATE_BIN serve --data-dir <tmp> --listen 127.0.0.1:<free port>` once per
  session (default binary: `$CARGO_TARGET_DIR/debug/searchgate` or `target/debug/searchgate`).

Flavor: `flavor` is "opensearch" when `GET /` says `version.distribution: opensearch`, else
"elasticsearch". Tests that use the `elasticsearch` client are skipped when `GET /` lacks the
`X-Elastic-Product: Elasticsearch` header (the client refuses such a server). Expectations follow
Elasticsearch 8; where OpenSearch 2.x answers differently, tests say so and accept its answer only
when `flavor == "opensearch"`.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from pathlib import Path

import pytest
import requests

import harness

_SPAWNED: dict = {}


def pytest_configure(config):
    config.addinivalue_line("markers", "corpus: bulk-loads the full debian-bookworm corpus (slow; run once)")
    config.addinivalue_line("markers", "es_client: uses the elasticsearch client (needs X-Elastic-Product)")
    config.addinivalue_line("markers", "spawns_server: starts a searchgate process of its own")


# --------------------------------------------------------------------------- server


@pytest.fixture(scope="session")
def server():
    url = os.environ.get("SEARCHGATE_URL")
    if url:
        yield url.rstrip("/")
        return
    tmp = Path(tempfile.mkdtemp(prefix="searchgate-clients-"))
    srv = harness.Server(tmp / "data", log_path=tmp / "server.log")
    try:
        srv.start(timeout=30)
    except harness.ServerError as e:
        pytest.exit(f"cannot start searchgate: {e}", returncode=3)
    _SPAWNED["server"] = srv
    try:
        yield srv.url
    finally:
        srv.terminate(timeout=20)
        _SPAWNED.pop("server", None)


@pytest.fixture(scope="session")
def base_url(server):
    return server


@pytest.fixture(scope="session")
def root_response(base_url):
    r = requests.get(base_url + "/", timeout=30)
    assert r.status_code == 200, r.text
    return r


@pytest.fixture(scope="session")
def flavor(root_response):
    dist = root_response.json().get("version", {}).get("distribution")
    return "opensearch" if dist == "opensearch" else "elasticsearch"


@pytest.fixture(scope="session")
def speaks_elastic(root_response):
    """True when the server sends the product header the elasticsearch client insists on."""
    return root_response.headers.get("X-Elastic-Product") == "Elasticsearch"


@pytest.fixture(autouse=True)
def _server_still_alive():
    """Fail the test that made the spawned server die (a panic, a stack overflow, an abort...)."""
    yield
    srv = _SPAWNED.get("server")
    if srv is not None and not srv.alive():
        pytest.fail(f"searchgate died during this test (exit code {srv.proc.returncode})\n{srv.log_tail()}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and rep.when == "call":
        srv = _SPAWNED.get("server")
        if srv is not None:
            rep.sections.append(("searchgate server log (tail)", srv.log_tail(60)))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "es" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("es_client"):
            item.add_marker(pytest.mark.es_client)


# --------------------------------------------------------------------------- clients


class Http:
    """requests with the server's base URL; for what the clients can't express."""

    def __init__(self, base_url: str):
        self.base = base_url
        self.s = requests.Session()

    def request(self, method, path, *, json=None, data=None, headers=None, params=None, timeout=60):
        h = {}
        if json is not None or data is not None:
            h["Content-Type"] = "application/json"
        if headers:
            h.update(headers)
        if json is not None:
            data = harness.dumps(json)
        return self.s.request(method, self.base + path, data=data, headers=h, params=params, timeout=timeout)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def raw(self, method, path, body=None, headers=None, timeout=60):
        """Send `path` byte for byte (no URL normalisation) with http.client; returns a requests.Response."""
        import http.client
        from urllib.parse import urlsplit

        u = urlsplit(self.base)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
        try:
            if isinstance(body, str):
                body = body.encode()
            conn.request(method, path, body=body, headers=headers or {})
            raw = conn.getresponse()
            resp = requests.Response()
            resp.status_code = raw.status
            resp.headers = requests.structures.CaseInsensitiveDict(raw.getheaders())
            resp._content = raw.read()
            resp.encoding = "utf-8"
            resp.url = self.base + path
            return resp
        finally:
            conn.close()

    def bulk(self, lines, path="/_bulk", params=None):
        return self.request(
            "POST", path, data=harness.ndjson(lines), headers={"Content-Type": "application/x-ndjson"}, params=params
        )


@pytest.fixture(scope="session")
def http(base_url):
    return Http(base_url)


@pytest.fixture(scope="session")
def es_session(base_url, speaks_elastic):
    if not speaks_elastic:
        yield None
        return
    from elasticsearch import Elasticsearch

    client = Elasticsearch(base_url, request_timeout=120, max_retries=0)
    yield client
    client.close()


@pytest.fixture
def es(es_session):
    """The official elasticsearch client (8.x or 9.x, whichever this venv has)."""
    if es_session is None:
        pytest.skip("server lacks X-Elastic-Product: Elasticsearch; elasticsearch-py refuses it")
    return es_session


@pytest.fixture(scope="session")
def osc(base_url):
    """The official opensearch-py client."""
    from opensearchpy import OpenSearch

    client = OpenSearch(hosts=[base_url], timeout=120, max_retries=0)
    yield client
    client.close()


# --------------------------------------------------------------------------- unique indices


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


@pytest.fixture
def new_index(request, http):
    """Factory of unique lowercase index names; every index it names is deleted after the test."""
    made = []
    base = "t-" + _slug(request.node.name)

    def make(suffix: str = "") -> str:
        name = f"{base}-{uuid.uuid4().hex[:8]}" + (f"-{_slug(suffix)}" if suffix else "")
        made.append(name)
        return name

    yield make
    for name in made:
        try:
            http.delete("/" + name, params={"ignore_unavailable": "true"}, timeout=30)
        except requests.RequestException:
            pass


@pytest.fixture
def index(new_index):
    """One unique index name (not created)."""
    return new_index()


@pytest.fixture
def make_index(http, new_index):
    """Create a unique index from a body ({"settings":..., "mappings":...}) and return its name."""

    def make(body=None, suffix: str = "") -> str:
        name = new_index(suffix)
        body = dict(body or {})
        settings = dict(body.get("settings") or {})
        settings.setdefault("number_of_shards", 1)
        settings.setdefault("number_of_replicas", 0)
        body["settings"] = settings
        r = http.put("/" + name, json=body)
        assert r.status_code == 200, f"create {name}: {r.status_code} {r.text}"
        return name

    return make


def load_docs(http, index: str, docs, refresh: bool = True):
    """Bulk-index {id: source} (or a list of sources with ids 1..n) into `index`."""
    if not isinstance(docs, dict):
        docs = {str(i + 1): d for i, d in enumerate(docs)}
    lines = []
    for _id, src in docs.items():
        lines.append({"index": {"_index": index, "_id": _id}})
        lines.append(src)
    r = http.bulk(lines, params={"refresh": "true"} if refresh else None)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["errors"] is False, body
    return docs


@pytest.fixture
def load(http):
    def _load(index, docs, refresh=True):
        return load_docs(http, index, docs, refresh)

    return _load
