"""Bad input: every failure is an Elasticsearch error body with the ES type and status, and never a 500."""

import json
import os

import pytest

import harness

PARSE_ERRORS = {"parse_exception", "x_content_parse_exception", "x_content_e_o_f_exception"}
# What ES 8 answers for a body that is not JSON (x_content_e_o_f_exception: ES 8's name for a truncated body).
# OpenSearch 2.x says json_parse_exception / json_e_o_f_exception (accepted only when the server under test is
# OpenSearch) and, for a document, mapper_parsing_exception.
OS_PARSE_ERRORS = {"json_parse_exception", "json_e_o_f_exception", "parsing_exception", "mapper_parsing_exception"}
DOC_PARSE_ERRORS = {"document_parsing_exception", "mapper_parsing_exception"}


def parse_errors(flavor, extra=()):
    return PARSE_ERRORS | set(extra) | (OS_PARSE_ERRORS if flavor == "opensearch" else set())


@pytest.fixture
def idx(make_index, load):
    name = make_index({"mappings": {"properties": {"t": {"type": "text"}, "k": {"type": "keyword"},
                                                   "n": {"type": "long"}}}})
    load(name, {"1": {"t": "hello world", "k": "a", "n": 1}})
    return name


# --------------------------------------------------------------------------- malformed JSON


@pytest.mark.parametrize("body", ['{"query": {"match_all": {}}', "{not json", '{"query": }', "[1, 2", "\x00\x01"],
                         ids=["truncated", "garbage", "missing-value", "array", "binary"])
def test_malformed_json_search(http, idx, flavor, body):
    r = http.post(f"/{idx}/_search", data=body)
    harness.assert_es_error(r, 400, parse_errors(flavor, {"parsing_exception"} if body.startswith("[") else ()))


def test_malformed_json_create_index(http, index, flavor):
    r = http.put(f"/{index}", data='{"settings": {')
    harness.assert_es_error(r, 400, parse_errors(flavor))
    assert http.head(f"/{index}").status_code == 404


def test_malformed_json_document(http, idx, flavor):
    r = http.put(f"/{idx}/_doc/2", data='{"t": "unterminated')
    harness.assert_es_error(r, 400, parse_errors(flavor, DOC_PARSE_ERRORS))
    assert http.get(f"/{idx}/_doc/2").status_code == 404
    r = http.post(f"/{idx}/_update/1", data='{"doc": {')
    harness.assert_es_error(r, 400, parse_errors(flavor))
    r = http.put(f"/{idx}/_mapping", data='{"properties": ')
    harness.assert_es_error(r, 400, parse_errors(flavor, {"mapper_parsing_exception"}))


def test_document_must_be_an_object(http, idx, flavor):
    for body in ("[1, 2]", '"just a string"', "42"):
        r = http.put(f"/{idx}/_doc/3", data=body)
        assert r.status_code == 400, (body, r.text)
        harness.assert_es_error(r, 400)


def test_empty_body_where_required(http, idx):
    r = http.put(f"/{idx}/_doc/4")
    harness.assert_es_error(r, 400, {"parse_exception", "action_request_validation_exception"})
    r = http.post(f"/{idx}/_update/1")
    harness.assert_es_error(r, 400, {"parse_exception", "action_request_validation_exception"})


def test_malformed_json_with_client(es, idx, flavor):
    """The client serialises dicts, so pass a raw string body through perform_request."""
    from elasticsearch import BadRequestError

    with pytest.raises(BadRequestError) as ei:
        es.perform_request("POST", f"/{idx}/_search", headers={"content-type": "application/json",
                                                               "accept": "application/json"}, body="{oops")
    harness.assert_es_error(ei.value, 400, parse_errors(flavor))


# --------------------------------------------------------------------------- DSL errors


def test_unknown_query_type(http, idx):
    r = http.post(f"/{idx}/_search", json={"query": {"no_such_query": {"t": "x"}}})
    harness.assert_es_error(r, 400, "parsing_exception", reason_contains="no_such_query")
    # nested: ES wraps it ("[bool] failed to parse field [must]"); the root cause names the query
    r = http.post(f"/{idx}/_search", json={"query": {"bool": {"must": [{"frobnicate": {}}]}}})
    err = harness.assert_es_error(r, 400, {"parsing_exception", "x_content_parse_exception"},
                                  reason_contains="frobnicate")
    assert err["root_cause"][0]["type"] == "parsing_exception"
    r = http.post(f"/{idx}/_count", json={"query": {"no_such_query": {}}})
    harness.assert_es_error(r, 400, "parsing_exception", reason_contains="no_such_query")


def test_unknown_query_type_client(es, idx):
    from elasticsearch import BadRequestError

    with pytest.raises(BadRequestError) as ei:
        es.search(index=idx, query={"no_such_query": {}})
    harness.assert_es_error(ei.value, 400, "parsing_exception", reason_contains="no_such_query")


@pytest.mark.parametrize("query,name", [
    ({"match": {"t": {"query": "x", "bogus_opt": 1}}}, "bogus_opt"),
    ({"term": {"k": {"value": "a", "bogus_opt": 1}}}, "bogus_opt"),
    ({"range": {"n": {"gte": 1, "bogus_opt": 2}}}, "bogus_opt"),
    ({"bool": {"must": [], "bogus_opt": []}}, "bogus_opt"),
    ({"match_all": {"bogus_opt": 1}}, "bogus_opt"),
    ({"exists": {"field": "k", "bogus_opt": 1}}, "bogus_opt"),
    ({"ids": {"values": ["1"], "bogus_opt": 1}}, "bogus_opt"),
    ({"multi_match": {"query": "x", "fields": ["t"], "bogus_opt": 1}}, "bogus_opt"),
    ({"constant_score": {"filter": {"match_all": {}}, "bogus_opt": 1}}, "bogus_opt"),
    ({"match_phrase": {"t": {"query": "x", "bogus_opt": 1}}}, "bogus_opt"),
    ({"prefix": {"k": {"value": "a", "bogus_opt": 1}}}, "bogus_opt"),
], ids=lambda v: next(iter(v)) if isinstance(v, dict) else None)
def test_unknown_field_in_query_clause(http, idx, query, name):
    r = http.post(f"/{idx}/_search", json={"query": query})
    harness.assert_es_error(r, 400, {"parsing_exception", "x_content_parse_exception"}, reason_contains=name)


def test_malformed_query_clauses(http, idx):
    for query in (
        {"term": {}},  # no field
        {"term": {"k": "a", "n": 1}},  # two fields
        {"match": {"t": "x", "k": "y"}},
        {"bool": {"must": "not a clause"}},
        {"range": {"n": "5"}},
        {"terms": {"k": "not-an-array"}},
        {"match_all": {}, "match_none": {}},  # two queries in one object
        {},
    ):
        r = http.post(f"/{idx}/_search", json={"query": query})
        assert r.status_code == 400, (query, r.status_code, r.text)
        harness.assert_es_error(r, 400)


def test_unknown_top_level_search_key(http, idx):
    r = http.post(f"/{idx}/_search", json={"query": {"match_all": {}}, "not_a_search_key": 1})
    harness.assert_es_error(r, 400, {"parsing_exception", "x_content_parse_exception"},
                            reason_contains="not_a_search_key")


def test_bad_values_in_search(http, idx):
    r = http.post(f"/{idx}/_search", json={"query": {"term": {"n": "not a number"}}})
    harness.assert_es_error(r, 400, {"search_phase_execution_exception", "query_shard_exception",
                                     "number_format_exception", "illegal_argument_exception"})
    r = http.post(f"/{idx}/_search", json={"query": {"range": {"n": {"gte": "abc"}}}})
    assert r.status_code == 400
    r = http.post(f"/{idx}/_search", json={"size": "ten"})
    harness.assert_es_error(r, 400)
    r = http.post(f"/{idx}/_search", json={"track_total_hits": "maybe"})
    harness.assert_es_error(r, 400)
    r = http.get(f"/{idx}/_search", params={"size": "ten"})
    harness.assert_es_error(r, 400)
    r = http.post(f"/{idx}/_search", json={"query": {"range": {"missing_date": {"gte": "now-1x"}}}})
    assert r.status_code in (200, 400)  # unmapped field: ES answers 200 with no hits


def test_bad_mapping_definitions(http, new_index):
    for mappings in (
        {"properties": {"a": {"type": "text", "bogus_param": 1}}},
        {"properties": {"a": "not an object"}},
        {"dynamic": "sometimes"},
        {"properties": {"a": {"type": "date", "format": "no such format !!"}}},
    ):
        name = new_index()
        r = http.put(f"/{name}", json={"mappings": mappings})
        harness.assert_es_error(r, 400, {"mapper_parsing_exception", "illegal_argument_exception"})
        assert http.head(f"/{name}").status_code == 404


def test_bad_settings(http, new_index):
    name = new_index()
    r = http.put(f"/{name}", json={"settings": {"number_of_shards": "many"}})
    harness.assert_es_error(r, 400, {"illegal_argument_exception", "settings_exception"})
    r = http.put(f"/{name}", json={"settings": {"index": {"refresh_interval": "soon"}}})
    harness.assert_es_error(r, 400, {"illegal_argument_exception", "settings_exception", "parse_exception"})
    r = http.put(f"/{name}", json={"not_a_section": {}})
    harness.assert_es_error(r, 400, {"parse_exception", "illegal_argument_exception",
                                     "x_content_parse_exception"})


# --------------------------------------------------------------------------- missing things, conflicts


def test_missing_index_everywhere(http, new_index):
    missing = new_index()
    for method, path in [("GET", f"/{missing}"), ("GET", f"/{missing}/_search"), ("GET", f"/{missing}/_count"),
                         ("GET", f"/{missing}/_mapping"), ("GET", f"/{missing}/_doc/1"),
                         ("GET", f"/{missing}/_source/1"), ("POST", f"/{missing}/_refresh"),
                         ("DELETE", f"/{missing}")]:
        r = http.request(method, path)
        harness.assert_es_error(r, 404, "index_not_found_exception", reason_contains=missing)
    assert http.head(f"/{missing}").status_code == 404


def test_missing_document(http, idx):
    r = http.get(f"/{idx}/_doc/nope")
    assert r.status_code == 404 and r.json()["found"] is False
    r = http.delete(f"/{idx}/_doc/nope")
    assert r.status_code == 404 and r.json()["result"] == "not_found"
    r = http.post(f"/{idx}/_update/nope", json={"doc": {"k": "b"}})
    harness.assert_es_error(r, 404, "document_missing_exception")


def test_conflicts(http, idx):
    r = http.put(f"/{idx}/_create/1", json={"k": "b"})
    harness.assert_es_error(r, 409, "version_conflict_engine_exception")
    r = http.put(f"/{idx}/_doc/1", params={"if_seq_no": 999, "if_primary_term": 1}, json={"k": "b"})
    harness.assert_es_error(r, 409, "version_conflict_engine_exception")
    r = http.put(f"/{idx}", json={})
    harness.assert_es_error(r, 400, "resource_already_exists_exception")


def test_if_seq_no_without_primary_term(http, idx):
    r = http.put(f"/{idx}/_doc/1", params={"if_seq_no": 0}, json={"k": "b"})
    harness.assert_es_error(r, 400, {"action_request_validation_exception", "illegal_argument_exception"})


# --------------------------------------------------------------------------- routes


def test_unknown_route(http):
    r = http.get("/_searchgate_no_such_api/a/b/c/d/e")
    assert r.status_code == 400
    body = r.json()
    text = body["error"] if isinstance(body["error"], str) else body["error"]["reason"]
    assert "no handler found for uri [/_searchgate_no_such_api/a/b/c/d/e] and method [GET]" in text


def test_wrong_method_on_known_route(http, flavor):
    r = http.delete("/_cat/health")
    assert r.status_code == 405, r.text
    allow = r.headers.get("Allow", "")
    assert "GET" in {m.strip() for m in allow.split(",")}, allow
    body = r.json()
    text = body["error"] if isinstance(body["error"], str) else body["error"]["reason"]
    assert "Incorrect HTTP method for uri [/_cat/health] and method [DELETE]" in text
    assert body.get("status") == 405

    r = http.put("/_cluster/health", json={})
    assert r.status_code == 405 and "GET" in r.headers.get("Allow", "")


def test_no_500_on_odd_requests(http, idx):
    odd = [
        ("GET", f"/{idx}/_doc/"),
        ("GET", f"/{idx}/_doc/%00"),
        ("GET", f"/{idx}/_search?size=1&from=-1"),
        ("GET", f"/{idx}/_search?q="),
        ("GET", f"/{idx}/_search?q=%3A%3A%3A"),
        ("GET", f"/{idx}/_search?sort=n:sideways"),
        ("GET", f"/{idx}/_search?track_total_hits=-5"),
        ("POST", f"/{idx}/_search?filter_path=%2A%2A%2A"),
        ("PUT", f"/{idx}/_doc/{'x' * 600}"),
        ("GET", "/_cat/indices?format=xml"),
        ("GET", "/%ZZ"),
        ("POST", "/_bulk?refresh=sometimes"),
        ("PUT", f"/{idx}/_doc/1?refresh=sometimes"),
    ]
    for method, path in odd:
        r = http.raw(method, path, body='{"k":"v"}\n' if method != "GET" else None,
                     headers={"Content-Type": "application/json"})
        assert r.status_code < 500, (method, path, r.status_code, r.text[:300])
        if r.status_code >= 400 and r.content:
            r.json()  # JSON, not a text/plain panic message


def test_no_rust_leaks_in_errors(http, idx):
    for r in (http.post(f"/{idx}/_search", data="{bad"),
              http.post(f"/{idx}/_search", json={"query": {"nope": {}}}),
              http.put(f"/{idx}/_doc/1", json={"n": "x"})):
        text = r.text
        for leak in ("panicked", "RUST_BACKTRACE", "serde_json", "tantivy::", "anyhow", "src/", ".rs:"):
            assert leak not in text, (leak, text)


def test_unsupported_content_type(http, idx):
    r = http.post(f"/{idx}/_search", data='{"query": {"match_all": {}}}', headers={"Content-Type": "text/plain"})
    assert r.status_code == 406, r.text
    r = http.post(f"/{idx}/_search", data='{}', headers={"Content-Type": "application/xml"})
    assert r.status_code == 406, r.text


# --------------------------------------------------------------------------- limits


def _nested_array(depth):
    return "[" * depth + "]" * depth


def test_deep_nesting_rejected(http, idx, flavor):
    depth = 20_000
    r = http.put(f"/{idx}/_doc/deep", data='{"a": ' + _nested_array(depth) + "}")
    harness.assert_es_error(r, 400)
    r = http.post(f"/{idx}/_search", data='{"query": {"terms": {"k": ' + _nested_array(depth) + "}}}")
    harness.assert_es_error(r, 400)
    if flavor == "elasticsearch":  # OpenSearch 2.19 drops the connection here (a stack overflow); ES says 400
        r = http.post(f"/{idx}/_search", data='{"query":' + '{"bool":{"must":' * 5000 + "{}" + "}}" * 5000 + "}")
        harness.assert_es_error(r, 400)
    deep_obj = '{"a":' * depth + "1" + "}" * depth
    r = http.put(f"/{idx}/_doc/deep2", data=deep_obj)
    harness.assert_es_error(r, 400)
    r = http.bulk([{"index": {"_index": idx, "_id": "deep3"}}, deep_obj])
    assert r.status_code in (200, 400), r.status_code
    if r.status_code == 200:
        assert r.json()["items"][0]["index"]["status"] == 400
    assert http.get("/").status_code == 200  # still up


def test_moderate_nesting_accepted(http, make_index):
    """ES limits object depth in mappings to 20 (index.mapping.depth.limit); 15 levels are fine."""
    name = make_index()
    doc = 1
    for _ in range(15):
        doc = {"o": doc}
    r = http.put(f"/{name}/_doc/1", json=doc)
    assert r.status_code == 201, r.text
    r = http.post(f"/{name}/_search", json={"query": {"bool": {"must": [{"bool": {"must": [{"bool": {
        "filter": [{"match_all": {}}]}}]}}]}}})
    assert r.status_code == 200


@pytest.mark.spawns_server
def test_body_too_large(tmp_path):
    """Body over the limit: 413 (a second server with --max-content-length 1kb)."""
    if os.environ.get("SEARCHGATE_URL"):
        pytest.skip("needs to start its own searchgate with a small body limit")
    srv = harness.Server(tmp_path / "data", extra_args=["--max-content-length", "1kb"],
                         log_path=tmp_path / "small-limit.log")
    try:
        srv.start(timeout=30)
    except harness.ServerError as e:
        pytest.fail(str(e))
    try:
        import requests

        big = json.dumps({"text": "x" * 4096})
        r = requests.put(srv.url + "/big/_doc/1", data=big, headers={"Content-Type": "application/json"},
                         timeout=30)
        assert r.status_code == 413, (r.status_code, r.text)
        assert r.headers.get("X-Elastic-Product") == "Elasticsearch"
        if r.content:
            body = r.json()
            assert body.get("status") == 413 or "error" in body, body
        small = json.dumps({"text": "x" * 100})
        r = requests.put(srv.url + "/small/_doc/1", data=small, headers={"Content-Type": "application/json"},
                         timeout=30)
        assert r.status_code == 201, r.text
        lines = harness.ndjson([{"index": {"_index": "big", "_id": str(i)}} if i % 2 == 0 else {"v": "y" * 50}
                                for i in range(80)])
        r = requests.post(srv.url + "/_bulk", data=lines, headers={"Content-Type": "application/x-ndjson"},
                          timeout=30)
        assert r.status_code == 413
        assert requests.get(srv.url + "/", timeout=10).status_code == 200
    finally:
        srv.terminate()
