"""Cluster-level API: GET/HEAD /, product header, _cluster/health, _cat/*, ?pretty, filter_path, error_trace,
and the vendor media types the official clients send."""

import json
import re

import pytest

import harness

ES_PRODUCT = "Elasticsearch"


def _es_only(flavor):
    if flavor != "elasticsearch":
        pytest.skip("Elasticsearch-only behaviour (OpenSearch differs here)")


# --------------------------------------------------------------------------- GET / and HEAD /


def test_root_answers_like_a_cluster(http, flavor):
    r = http.get("/")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    for key in ("name", "cluster_name", "cluster_uuid", "version", "tagline"):
        assert key in body, body
    assert isinstance(body["name"], str) and body["name"]
    assert isinstance(body["cluster_name"], str) and body["cluster_name"]
    assert isinstance(body["cluster_uuid"], str) and body["cluster_uuid"]
    assert isinstance(body["tagline"], str) and body["tagline"]
    version = body["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+(-\w+)?", version["number"]), version
    for key in ("build_hash", "build_date", "lucene_version", "minimum_wire_compatibility_version",
                "minimum_index_compatibility_version"):
        assert key in version, f"version.{key} missing: {version}"
    if flavor == "elasticsearch":
        assert version["number"].startswith("8."), "searchgate announces itself as an 8.x cluster"
        assert version["build_flavor"] == "default", version
        assert "build_type" in version and "build_snapshot" in version


def test_root_has_product_header(http, flavor):
    _es_only(flavor)
    r = http.get("/")
    assert r.headers.get("X-Elastic-Product") == ES_PRODUCT


def test_head_root(http):
    r = http.head("/")
    assert r.status_code == 200
    assert r.content == b""


def test_product_header_on_every_response(http, flavor, index):
    """elasticsearch-py checks the header on every 2xx; ES sends it on errors too."""
    _es_only(flavor)
    responses = [
        http.get("/"),
        http.head("/"),
        http.get("/_cluster/health"),
        http.get("/_cat/indices"),
        http.get(f"/{index}/_search"),  # 404
        http.get(f"/{index}/_doc/1"),  # 404
        http.post("/_search", data="{not json"),  # 400
        http.get("/_searchgate_no_such_api/a/b/c/d/e"),  # 400 no handler
        http.delete("/_cat/health"),  # 405
        http.head(f"/{index}"),  # 404, HEAD
    ]
    for r in responses:
        assert r.headers.get("X-Elastic-Product") == ES_PRODUCT, (r.request.method, r.request.url, r.status_code)


def test_client_info(es):
    info = es.info()
    assert info["version"]["number"].startswith("8.")
    assert info["cluster_name"]
    assert es.ping() is True


def test_client_info_opensearch_py(osc):
    info = osc.info()
    assert info["cluster_name"] and info["version"]["number"]
    assert osc.ping() is True


# --------------------------------------------------------------------------- media types


@pytest.mark.parametrize("compat", [8, 9])
def test_vendor_media_types_accepted(http, make_index, compat, flavor):
    """elasticsearch-py 8 sends compatible-with=8, 9 sends compatible-with=9; ES answers with the same type."""
    _es_only(flavor)  # OpenSearch rejects vendor media types
    name = make_index({"mappings": {"properties": {"t": {"type": "keyword"}}}})
    mt = f"application/vnd.elasticsearch+json; compatible-with={compat}"
    r = http.put(f"/{name}/_doc/1", params={"refresh": "true"}, data=json.dumps({"t": "x"}),
                 headers={"Content-Type": mt, "Accept": mt})
    assert r.status_code == 201, r.text
    r = http.post(f"/{name}/_search", data=json.dumps({"query": {"term": {"t": "x"}}}),
                  headers={"Content-Type": mt, "Accept": mt})
    assert r.status_code == 200, r.text
    assert r.json()["hits"]["total"]["value"] == 1
    ct = r.headers["Content-Type"]
    assert ct.startswith("application/vnd.elasticsearch+json"), ct
    assert f"compatible-with={compat}" in ct.replace(" ", ""), ct
    nd = f"application/vnd.elasticsearch+x-ndjson; compatible-with={compat}"
    body = harness.ndjson([{"index": {"_index": name, "_id": "2"}}, {"t": "y"}])
    r = http.post("/_bulk", data=body, headers={"Content-Type": nd, "Accept": mt})
    assert r.status_code == 200, r.text
    assert r.json()["errors"] is False


def test_plain_json_answer_content_type(http):
    r = http.get("/_cluster/health")
    assert r.headers["Content-Type"].startswith("application/json")


# --------------------------------------------------------------------------- _cluster/health

HEALTH_KEYS = {
    "cluster_name", "status", "timed_out", "number_of_nodes", "number_of_data_nodes", "active_primary_shards",
    "active_shards", "relocating_shards", "initializing_shards", "unassigned_shards",
    "delayed_unassigned_shards", "number_of_pending_tasks", "number_of_in_flight_fetch",
    "task_max_waiting_in_queue_millis", "active_shards_percent_as_number",
}


def test_cluster_health(http, root_response):
    r = http.get("/_cluster/health")
    assert r.status_code == 200
    body = r.json()
    assert HEALTH_KEYS <= set(body), HEALTH_KEYS - set(body)
    assert body["cluster_name"] == root_response.json()["cluster_name"]
    assert body["status"] in ("green", "yellow", "red")
    assert body["timed_out"] is False
    assert body["number_of_nodes"] >= 1


def test_cluster_health_per_index(http, make_index):
    name = make_index()
    r = http.get(f"/_cluster/health/{name}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert HEALTH_KEYS <= set(body)
    assert body["status"] == "green"  # one shard, no replicas
    assert body["active_primary_shards"] == 1


def test_cluster_health_client(es, make_index):
    name = make_index()
    h = es.cluster.health(index=name, wait_for_status="green", timeout="5s")
    assert h["status"] == "green"
    assert es.cluster.health()["status"] in ("green", "yellow")


# --------------------------------------------------------------------------- _cat


def _cat_lines(text):
    return [ln for ln in text.splitlines() if ln.strip()]


def test_cat_indices_text_and_json(http, make_index, load):
    name = make_index()
    load(name, [{"a": 1}, {"a": 2}, {"a": 3}])
    r = http.get("/_cat/indices", params={"v": "true"})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    lines = _cat_lines(r.text)
    header = lines[0].split()
    expected = ["health", "status", "index", "uuid", "pri", "rep", "docs.count", "docs.deleted", "store.size",
                "pri.store.size"]
    assert header[: len(expected)] == expected, header
    row = next(ln.split() for ln in lines[1:] if name in ln.split())
    assert row[0] == "green" and row[1] == "open" and row[2] == name
    assert row[4] == "1" and row[5] == "0" and row[6] == "3", row

    # without ?v: no header line
    r = http.get("/_cat/indices")
    assert not r.text.startswith("health")
    assert any(name in ln.split() for ln in _cat_lines(r.text))

    r = http.get(f"/_cat/indices/{name}", params={"format": "json"})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    rows = r.json()
    assert len(rows) == 1
    row = rows[0]
    assert row["index"] == name and row["health"] == "green" and row["status"] == "open"
    assert row["pri"] == "1" and row["rep"] == "0" and row["docs.count"] == "3"  # _cat values are strings
    assert set(expected) <= set(row)


def test_cat_indices_client(es, make_index, load):
    name = make_index()
    load(name, [{"a": 1}])
    rows = es.cat.indices(index=name, format="json")
    assert [r["index"] for r in rows] == [name]
    assert rows[0]["docs.count"] == "1"
    text = es.cat.indices(index=name, v=True)
    assert "docs.count" in str(text)


def test_cat_health(http, root_response):
    r = http.get("/_cat/health", params={"v": "true"})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    lines = _cat_lines(r.text)
    assert lines[0].split()[:4] == ["epoch", "timestamp", "cluster", "status"]
    assert len(lines) == 2
    row = lines[1].split()
    assert re.fullmatch(r"\d{10}", row[0]) and re.fullmatch(r"\d\d:\d\d:\d\d", row[1])
    assert row[2] == root_response.json()["cluster_name"]
    assert row[3] in ("green", "yellow", "red")

    r = http.get("/_cat/health", params={"format": "json"})
    rows = r.json()
    assert len(rows) == 1
    assert {"epoch", "timestamp", "cluster", "status", "node.total", "shards"} <= set(rows[0])


def test_cat_count(http, make_index, load):
    name = make_index()
    load(name, [{"a": i} for i in range(7)])
    r = http.get(f"/_cat/count/{name}", params={"v": "true"})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    lines = _cat_lines(r.text)
    assert lines[0].split() == ["epoch", "timestamp", "count"]
    epoch, ts, count = lines[1].split()
    assert re.fullmatch(r"\d{10}", epoch) and re.fullmatch(r"\d\d:\d\d:\d\d", ts)
    assert count == "7"

    r = http.get(f"/_cat/count/{name}")
    assert _cat_lines(r.text)[0].split()[2] == "7"  # no header without ?v

    r = http.get(f"/_cat/count/{name}", params={"format": "json"})
    assert r.json() == [{"epoch": epoch, "timestamp": ts, "count": "7"}] or (
        len(r.json()) == 1 and r.json()[0]["count"] == "7"
    )

    r = http.get("/_cat/count", params={"format": "json"})
    assert int(r.json()[0]["count"]) >= 7


def test_cat_count_missing_index(http, index):
    r = http.get(f"/_cat/count/{index}")
    harness.assert_es_error(r, 404, "index_not_found_exception")


def test_cat_count_client(es, make_index, load, flavor):
    """elasticsearch-py >= 9.3 sends POST /_cat/count (ES 9.3 added POST); ES 8 and OpenSearch only have GET,
    so searchgate must take POST here for the 9.x client to work."""
    if flavor == "opensearch":
        pytest.skip("OpenSearch answers 405 to POST /_cat/count")
    name = make_index()
    load(name, [{"a": 1}, {"a": 2}])
    assert es.cat.count(index=name, format="json")[0]["count"] == "2"


# --------------------------------------------------------------------------- pretty, filter_path, error_trace


def test_pretty(http):
    plain = http.get("/_cluster/health")
    pretty = http.get("/_cluster/health", params={"pretty": "true"})
    assert pretty.status_code == 200
    assert "\n  " in pretty.text, "pretty output is indented"
    assert "\n" not in plain.text.strip(), "compact output by default"
    assert set(pretty.json()) == set(plain.json())
    # bare ?pretty (no value) works too
    r = http.get("/_cluster/health?pretty")
    assert r.status_code == 200 and "\n  " in r.text


def test_pretty_on_errors(http, index):
    r = http.get(f"/{index}/_search", params={"pretty": "true"})
    assert r.status_code == 404
    assert "\n  " in r.text
    harness.assert_es_error(r, 404, "index_not_found_exception")


def test_filter_path_root(http):
    r = http.get("/", params={"filter_path": "version.number"})
    assert r.status_code == 200
    body = r.json()
    assert list(body) == ["version"] and list(body["version"]) == ["number"]


def test_filter_path_search(http, make_index, load):
    name = make_index({"mappings": {"properties": {"title": {"type": "text"}, "n": {"type": "long"}}}})
    load(name, {"a": {"title": "one", "n": 1}, "b": {"title": "two", "n": 2}})
    body = {"query": {"match_all": {}}, "sort": [{"n": "asc"}]}
    r = http.post(f"/{name}/_search", json=body, params={"filter_path": "hits.hits._id"})
    assert r.json() == {"hits": {"hits": [{"_id": "a"}, {"_id": "b"}]}}

    r = http.post(f"/{name}/_search", json=body, params={"filter_path": "took,hits.total"})
    got = r.json()
    assert set(got) == {"took", "hits"} and got["hits"] == {"total": {"value": 2, "relation": "eq"}}

    r = http.post(f"/{name}/_search", json=body, params={"filter_path": "hits.hits._source.n"})
    assert r.json() == {"hits": {"hits": [{"_source": {"n": 1}}, {"_source": {"n": 2}}]}}

    r = http.post(f"/{name}/_search", json=body, params={"filter_path": "hits.hits.*id"})
    assert r.json() == {"hits": {"hits": [{"_id": "a"}, {"_id": "b"}]}}

    r = http.post(f"/{name}/_search", json=body, params={"filter_path": "-hits,-_shards"})
    assert "hits" not in r.json() and "_shards" not in r.json() and "took" in r.json()


def test_filter_path_with_client(es, make_index, load):
    name = make_index()
    load(name, {"x": {"a": 1}})
    resp = es.search(index=name, filter_path="hits.hits._id")
    assert resp.body == {"hits": {"hits": [{"_id": "x"}]}}


def test_filter_path_matching_nothing(http):
    r = http.get("/", params={"filter_path": "no_such_key"})
    assert r.status_code == 200
    assert r.json() == {}


def test_error_trace_accepted(http, make_index, index):
    name = make_index()
    r = http.get(f"/{name}/_search", params={"error_trace": "true"})
    assert r.status_code == 200
    r = http.get(f"/{index}/_search", params={"error_trace": "true"})
    harness.assert_es_error(r, 404, "index_not_found_exception")
    r = http.get("/", params={"error_trace": "false", "pretty": "true", "human": "true"})
    assert r.status_code == 200
