"""The gateway in front of a real OpenSearch node: answers are the node's (byte for byte where nothing varies),
`pretty`/`filter_path` applied once (by the node), the product header and vendor media types handled at the
edge, the body limit and the local `/_searchgate/*` routes, failures hidden where they can be, and a graceful
shutdown that drains a request in flight.

The client suite (tests/clients) runs through the same gateway in this session; these are the checks it cannot
make (it skips the Elasticsearch-only ones when `GET /` is OpenSearch's)."""

from __future__ import annotations

import http.client
import json
import signal
import threading
import time
import uuid

import pytest
import requests

import harness
from gateway_plugin import start_gateway

pytestmark = pytest.mark.gateway

ES_PRODUCT = "Elasticsearch"


@pytest.fixture
def idx(opensearch_url):
    """A unique index with three documents, created directly on the node; deleted afterwards."""
    name = f"gw-{uuid.uuid4().hex[:10]}"
    r = requests.put(f"{opensearch_url}/{name}", json={
        "settings": {"number_of_shards": 1, "number_of_replicas": 0},
        "mappings": {"properties": {"t": {"type": "text"}, "k": {"type": "keyword"}, "n": {"type": "integer"}}},
    }, timeout=60)
    assert r.status_code == 200, r.text
    lines = []
    for i, (t, k) in enumerate([("quick brown fox", "a"), ("lazy dog", "b"), ("quick dog", "a")], start=1):
        lines += [{"index": {"_index": name, "_id": str(i)}}, {"t": t, "k": k, "n": i}]
    r = requests.post(f"{opensearch_url}/_bulk?refresh=true", data=harness.ndjson(lines),
                      headers={"Content-Type": "application/x-ndjson"}, timeout=60)
    assert r.status_code == 200 and r.json()["errors"] is False, r.text
    yield name
    requests.delete(f"{opensearch_url}/{name}", timeout=60)


def both(opensearch_url, gateway_url, method, path, **kw):
    """The same request to the node and through the gateway."""
    direct = requests.request(method, opensearch_url + path, timeout=60, **kw)
    via = requests.request(method, gateway_url + path, timeout=60, **kw)
    return direct, via


def raw(base_url, method, path):
    """`path` sent byte for byte (requests would normalise `..`); returns status and parsed JSON body."""
    host, port = base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        out = requests.Response()
        out.status_code = resp.status
        out._content = resp.read()
        return out
    finally:
        conn.close()


def test_answers_are_the_nodes_bytes(opensearch_url, gateway_url, idx):
    """Where nothing varies between two calls the gateway's answer is the node's, byte for byte; `pretty` and
    `filter_path` were applied by the node only (applying them twice would change the bytes)."""
    search = json.dumps({"query": {"match": {"t": "quick"}}, "sort": [{"n": "asc"}]})
    cases = [
        ("GET", "/_cluster/health?pretty&filter_path=status,cluster_name,number_of_nodes", {}),
        ("GET", f"/{idx}/_search?filter_path=hits.total,hits.hits._id,hits.hits._source&pretty",
         {"data": search, "headers": {"Content-Type": "application/json"}}),
        ("GET", f"/{idx}/_search?filter_path=hits.hits._id",
         {"data": search, "headers": {"Content-Type": "application/json"}}),
        ("GET", f"/{idx}/_doc/2", {}),
        ("GET", f"/{idx}/_doc/2?pretty", {}),
        ("GET", f"/{idx}/_source/1?_source_includes=t", {}),
        ("GET", f"/{idx}/_doc/nope", {}),
        ("GET", f"/{idx}-missing/_search?pretty", {}),
        ("GET", f"/_cat/indices/{idx}?h=index,docs.count&v", {}),
        ("GET", f"/{idx}/_mapping?pretty", {}),
        ("POST", f"/{idx}/_count", {"data": json.dumps({"query": {"term": {"k": "a"}}}),
                                     "headers": {"Content-Type": "application/json"}}),
        ("POST", f"/{idx}/_search", {"data": "{not json", "headers": {"Content-Type": "application/json"}}),
        ("HEAD", f"/{idx}", {}),
        ("HEAD", f"/{idx}-missing", {}),
    ]
    for method, path, kw in cases:
        direct, via = both(opensearch_url, gateway_url, method, path, **kw)
        assert via.status_code == direct.status_code, (method, path, via.text)
        assert via.content == direct.content, (method, path, direct.text, via.text)
        assert via.headers.get("Content-Type") == direct.headers.get("Content-Type"), (method, path)
        assert via.headers.get("X-Elastic-Product") == ES_PRODUCT, (method, path)


def test_product_header_on_every_response(gateway_url, idx):
    """elasticsearch-py checks the header on every 2xx; ES sends it on errors, HEAD and _cat too."""
    s = requests.Session()
    responses = [
        s.get(gateway_url + "/"),
        s.head(gateway_url + "/"),
        s.get(gateway_url + "/_cluster/health"),
        s.get(gateway_url + "/_cat/indices"),
        s.get(gateway_url + f"/{idx}/_search"),
        s.get(gateway_url + f"/{idx}-missing/_search"),  # 404
        s.post(gateway_url + "/_search", data="{not json", headers={"Content-Type": "application/json"}),  # 400
        s.get(gateway_url + "/_no_such_api/a/b/c/d/e"),  # 400 no handler (OpenSearch's)
        s.delete(gateway_url + "/_cat/health"),  # 405 (OpenSearch's)
        s.head(gateway_url + f"/{idx}-missing"),  # 404, HEAD
        s.get(gateway_url + "/_searchgate/nodes"),  # local
    ]
    for r in responses:
        assert r.headers.get("X-Elastic-Product") == ES_PRODUCT, (r.request.method, r.request.url, r.status_code)


@pytest.mark.parametrize("compat", [7, 8, 9])
def test_vendor_media_types(gateway_url, idx, compat):
    """The official clients' vendor types: OpenSearch refuses them, the gateway sends plain ones up and gives
    the vendor type back."""
    mt = f"application/vnd.elasticsearch+json; compatible-with={compat}"
    r = requests.put(f"{gateway_url}/{idx}/_doc/v{compat}?refresh=true", data=json.dumps({"k": f"v{compat}"}),
                     headers={"Content-Type": mt, "Accept": mt}, timeout=60)
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"] == f"application/vnd.elasticsearch+json;compatible-with={compat}"
    r = requests.post(f"{gateway_url}/{idx}/_search", data=json.dumps({"query": {"term": {"k": f"v{compat}"}}}),
                      headers={"Content-Type": mt, "Accept": mt}, timeout=60)
    assert r.status_code == 200, r.text
    assert r.json()["hits"]["total"]["value"] == 1
    assert r.headers["Content-Type"] == f"application/vnd.elasticsearch+json;compatible-with={compat}"
    nd = f"application/vnd.elasticsearch+x-ndjson; compatible-with={compat}"
    body = harness.ndjson([{"index": {"_index": idx, "_id": f"b{compat}"}}, {"k": "bulk"}])
    r = requests.post(f"{gateway_url}/_bulk", data=body, headers={"Content-Type": nd, "Accept": mt}, timeout=60)
    assert r.status_code == 200 and r.json()["errors"] is False, r.text
    # a version searchgate does not speak: refused at the edge, as in embedded mode
    bad = "application/vnd.elasticsearch+json; compatible-with=5"
    r = requests.get(f"{gateway_url}/{idx}/_search", headers={"Accept": bad}, timeout=60)
    harness.assert_es_error(r, 400, "media_type_header_exception")


def test_opaque_id_and_plain_json(gateway_url):
    r = requests.get(gateway_url + "/_cluster/health", headers={"X-Opaque-Id": "gw-1"}, timeout=60)
    assert r.status_code == 200
    assert r.headers["X-Opaque-Id"] == "gw-1"
    assert r.headers["Content-Type"].startswith("application/json")


def test_body_limit_is_the_gateways(opensearch_url, tmp_dir, idx):
    """`--max-content-length` applies before forwarding: ES's 413 body from the gateway, nothing sent."""
    gw = start_gateway(opensearch_url, tmp_dir, extra=["--max-content-length", "1kb"], name="gw-1kb")
    try:
        big = json.dumps({"t": "x" * 4096})
        r = requests.put(f"{gw.url}/{idx}/_doc/big", data=big, headers={"Content-Type": "application/json"},
                         timeout=60)
        harness.assert_es_error(r, 413, "content_too_long_exception")
        assert r.headers.get("X-Elastic-Product") == ES_PRODUCT
        # chunked (no Content-Length): caught while reading
        r = requests.put(f"{gw.url}/{idx}/_doc/big", data=iter([big[i:i + 512].encode() for i in range(0, len(big), 512)]),
                         headers={"Content-Type": "application/json"}, timeout=60)
        harness.assert_es_error(r, 413, "content_too_long_exception")
        assert requests.get(f"{opensearch_url}/{idx}/_doc/big", timeout=60).status_code == 404
        nodes = requests.get(gw.url + "/_searchgate/nodes", timeout=60).json()
        r = requests.put(f"{gw.url}/{idx}/_doc/small", json={"t": "x"}, timeout=60)
        assert r.status_code == 201, r.text
        after = requests.get(gw.url + "/_searchgate/nodes", timeout=60).json()
        assert after["requests"] == nodes["requests"] + 1, "only the small request was forwarded"
    finally:
        gw.terminate()


def test_nodes_view(gateway_url, opensearch_url):
    r = requests.get(gateway_url + "/_searchgate/nodes?pretty", timeout=60)
    assert r.status_code == 200
    assert r.text.startswith("{\n"), r.text[:50]
    view = r.json()
    assert view["balancer"] == "p2c_peak_ewma"
    assert view["requests"] > 0
    [node] = view["nodes"]
    assert node["url"] == opensearch_url
    assert node["state"] == "alive", node
    assert set(view["pool"]) >= {"max_connections", "free_connections", "max_connections_per_node"}
    r = requests.post(gateway_url + "/_searchgate/nodes", timeout=60)
    assert r.status_code == 405 and r.headers["Allow"] == "GET,HEAD", r.text
    r = requests.get(gateway_url + "/_searchgate/health", timeout=60)
    assert r.json() == {"status": "ok"}


def test_a_dead_node_is_hidden(opensearch_url, tmp_dir, idx):
    """With a second node that refuses connections, reads and writes all succeed (a refused connection means
    the request never left, so even a write goes to the other node) and the dead node shows as dead."""
    dead = f"http://127.0.0.1:{harness.free_port()}"
    gw = start_gateway(f"{opensearch_url},{dead}", tmp_dir, name="gw-dead")
    try:
        s = requests.Session()
        for i in range(20):
            r = s.put(f"{gw.url}/{idx}/_doc/d{i}", json={"k": "dead-test", "n": i}, timeout=60)
            assert r.status_code == 201, r.text
            r = s.get(f"{gw.url}/{idx}/_doc/d{i}", timeout=60)
            assert r.status_code == 200, r.text
        view = s.get(gw.url + "/_searchgate/nodes", timeout=60).json()
        states = {n["url"]: n["state"] for n in view["nodes"]}
        assert states == {opensearch_url: "alive", dead: "dead"}, view
        assert view["failed"] == 0, view
    finally:
        gw.terminate()


def test_dot_segments_are_refused_not_rewritten(gateway_url, opensearch_url, idx):
    """`DELETE /{idx}/_doc/..` would reach the node as `DELETE /{idx}/` (the URL parser drops `..`): refused."""
    for path in (f"/{idx}/_doc/..", f"/{idx}/_doc/%2E%2E", f"/{idx}/_doc/."):
        r = raw(gateway_url, "DELETE", path)
        harness.assert_es_error(r, 400, "illegal_argument_exception", reason_contains="cannot forward")
    assert requests.head(f"{opensearch_url}/{idx}", timeout=60).status_code == 200, "the index is still there"


def test_graceful_shutdown_drains_a_request_in_flight(opensearch_url, tmp_dir):
    """SIGTERM while a request is in flight (a health wait the node holds): the answer still arrives whole,
    then the gateway exits 0."""
    gw = start_gateway(opensearch_url, tmp_dir, name="gw-drain")
    result = {}

    def slow():
        try:
            result["resp"] = requests.get(gw.url + "/_cluster/health?wait_for_nodes=9&timeout=3s", timeout=60)
        except requests.RequestException as e:  # pragma: no cover - reported below
            result["error"] = e

    t = threading.Thread(target=slow)
    t.start()
    try:
        # in flight once the gateway counts it on the node (no timing guess)
        deadline = time.monotonic() + 30
        while True:
            view = requests.get(gw.url + "/_searchgate/nodes", timeout=10).json()
            if view["nodes"][0]["in_flight"] >= 1:
                break
            assert time.monotonic() < deadline, view
            time.sleep(0.02)
        gw.proc.send_signal(signal.SIGTERM)
        t.join(timeout=60)
        code = gw.proc.wait(timeout=60)
    finally:
        gw.terminate()
    assert "error" not in result, result.get("error")
    r = result["resp"]
    assert r.status_code == 408, r.text  # OpenSearch: the wait timed out
    assert r.json()["timed_out"] is True
    assert r.headers.get("X-Elastic-Product") == ES_PRODUCT
    assert code == 0, gw.log_tail()
    assert "all requests drained" in gw.log_path.read_text()
