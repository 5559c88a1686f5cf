"""Search request/response: shape, from/size, sort, _source filtering, track_total_hits, _count, index
expressions (comma lists, wildcards, _all) and the search paths (/_search, /{index}/_search, GET and POST)."""

import uuid

import pytest

import harness

MAPPING = {"properties": {"name": {"type": "keyword"}, "n": {"type": "long"}, "f": {"type": "double"},
                          "day": {"type": "date"}, "text": {"type": "text"},
                          "meta": {"properties": {"a": {"type": "keyword"}, "b": {"type": "keyword"}}}}}


@pytest.fixture
def people(make_index, load):
    name = make_index({"mappings": MAPPING})
    load(name, {
        "a": {"name": "alice", "n": 30, "f": 1.5, "day": "2024-01-03", "text": "red apple",
              "meta": {"a": "x", "b": "y"}},
        "b": {"name": "bob", "n": 10, "f": 2.5, "day": "2024-01-01", "text": "green apple"},
        "c": {"name": "carol", "n": 20, "day": "2024-01-02", "text": "red cherry", "meta": {"a": "z"}},
        "d": {"name": "dave", "f": 0.5, "text": "yellow banana"},
        "e": {"name": "erin", "n": 20, "f": 9.0, "day": "2024-01-05", "text": "red red apple"},
    })
    return name


def search(http, index, body, **params):
    r = http.post(f"/{index}/_search", json=body, params=params or None)
    assert r.status_code == 200, f"{body}: {r.status_code} {r.text}"
    return r.json()


def test_response_shape(http, people):
    body = search(http, people, {"query": {"match": {"text": "apple"}}})
    assert set(body) >= {"took", "timed_out", "_shards", "hits"}
    assert isinstance(body["took"], int) and body["took"] >= 0
    assert body["timed_out"] is False
    assert body["_shards"] == {"total": 1, "successful": 1, "skipped": 0, "failed": 0}
    hits = body["hits"]
    assert hits["total"] == {"value": 3, "relation": "eq"}
    assert isinstance(hits["max_score"], float) and hits["max_score"] > 0
    scores = [h["_score"] for h in hits["hits"]]
    assert scores == sorted(scores, reverse=True) and scores[0] == hits["max_score"]
    for h in hits["hits"]:
        assert set(h) == {"_index", "_id", "_score", "_source"}, h
        assert h["_index"] == people
    assert hits["hits"][0]["_source"] == {"name": "alice", "n": 30, "f": 1.5, "day": "2024-01-03",
                                          "text": "red apple", "meta": {"a": "x", "b": "y"}}


def test_from_size(http, people):
    body = {"sort": [{"name": "asc"}]}
    assert [h["_id"] for h in search(http, people, body)["hits"]["hits"]] == ["a", "b", "c", "d", "e"]
    assert [h["_id"] for h in search(http, people, {**body, "from": 1, "size": 2})["hits"]["hits"]] == ["b", "c"]
    r = search(http, people, {**body, "from": 4, "size": 10})
    assert [h["_id"] for h in r["hits"]["hits"]] == ["e"] and r["hits"]["total"]["value"] == 5
    r = search(http, people, {**body, "from": 10})
    assert r["hits"]["hits"] == [] and r["hits"]["total"]["value"] == 5
    r = search(http, people, {"size": 0})
    assert r["hits"]["hits"] == [] and r["hits"]["total"]["value"] == 5 and r["hits"]["max_score"] is None
    r = http.get(f"/{people}/_search", params={"from": "1", "size": "1", "sort": "name:asc"})
    assert [h["_id"] for h in r.json()["hits"]["hits"]] == ["b"]
    # default size is 10
    assert len(search(http, people, {})["hits"]["hits"]) == 5


def test_from_size_limits(http, people):
    r = http.post(f"/{people}/_search", json={"from": 9995, "size": 10})
    harness.assert_es_error(r, 400, {"illegal_argument_exception", "search_phase_execution_exception"},
                            reason_contains="max_result_window")
    r = http.post(f"/{people}/_search", json={"size": -1})
    assert r.status_code == 400


def test_sort_fields(http, people):
    r = search(http, people, {"sort": [{"n": "desc"}, {"name": "asc"}]})
    hits = r["hits"]["hits"]
    assert [h["_id"] for h in hits] == ["a", "c", "e", "b", "d"]  # missing values last
    assert [h["sort"] for h in hits] == [[30, "alice"], [20, "carol"], [20, "erin"], [10, "bob"],
                                         [-9223372036854775808, "dave"]]
    assert all(h["_score"] is None for h in hits) and r["hits"]["max_score"] is None

    r = search(http, people, {"sort": [{"n": {"order": "asc"}}, "name"]})
    assert [h["_id"] for h in r["hits"]["hits"]] == ["b", "c", "e", "a", "d"]
    assert r["hits"]["hits"][-1]["sort"] == [9223372036854775807, "dave"]

    r = search(http, people, {"sort": ["name"]})
    assert [h["_id"] for h in r["hits"]["hits"]] == ["a", "b", "c", "d", "e"]
    r = search(http, people, {"sort": "name"})
    assert [h["_id"] for h in r["hits"]["hits"]] == ["a", "b", "c", "d", "e"]

    r = search(http, people, {"sort": [{"f": "desc"}]})
    assert [h["_id"] for h in r["hits"]["hits"]] == ["e", "b", "a", "d", "c"]
    assert r["hits"]["hits"][0]["sort"] == [9.0]

    r = search(http, people, {"sort": [{"day": "asc"}], "size": 2})
    assert [(h["_id"], h["sort"]) for h in r["hits"]["hits"]] == [("b", [1704067200000]), ("c", [1704153600000])]

    r = search(http, people, {"sort": [{"meta.a": "desc"}]})
    assert [h["_id"] for h in r["hits"]["hits"]][:2] == ["c", "a"]


def test_sort_missing(http, people):
    r = search(http, people, {"sort": [{"n": {"order": "asc", "missing": "_first"}}]})
    assert [h["_id"] for h in r["hits"]["hits"]][0] == "d"
    r = search(http, people, {"sort": [{"n": {"order": "desc", "missing": "_last"}}, "name"]})
    assert [h["_id"] for h in r["hits"]["hits"]][-1] == "d"
    r = search(http, people, {"sort": [{"n": {"order": "asc", "missing": 15}}, "name"]})
    assert [h["_id"] for h in r["hits"]["hits"]] == ["b", "d", "c", "e", "a"]
    assert r["hits"]["hits"][1]["sort"][0] == 15


def test_sort_unmapped_type(http, people):
    r = search(http, people, {"sort": [{"nope": {"order": "asc", "unmapped_type": "long"}}, "name"]})
    assert [h["_id"] for h in r["hits"]["hits"]] == ["a", "b", "c", "d", "e"]
    r = http.post(f"/{people}/_search", json={"sort": [{"nope": "asc"}]})
    harness.assert_es_error(r, 400, {"search_phase_execution_exception", "query_shard_exception"},
                            reason_contains="nope")


def test_sort_score_and_doc(http, people):
    q = {"match": {"text": "red apple"}}
    r = search(http, people, {"query": q, "sort": ["_score"]})
    scores = [h["_score"] for h in r["hits"]["hits"]]
    assert scores == sorted(scores, reverse=True)
    assert all("sort" not in h for h in r["hits"]["hits"])  # a plain _score sort is the default: no sort values
    r2 = search(http, people, {"query": q, "sort": [{"_score": "asc"}]})
    assert [h["_score"] for h in r2["hits"]["hits"]] == sorted(scores)
    assert [h["sort"] for h in r2["hits"]["hits"]] == [[s] for s in sorted(scores)]

    r = search(http, people, {"sort": ["_doc"]})
    assert [h["_id"] for h in r["hits"]["hits"]] == ["a", "b", "c", "d", "e"]  # index order
    r = search(http, people, {"query": q, "sort": [{"n": "asc"}, "_score"], "track_scores": True})
    assert all(isinstance(h["_score"], float) for h in r["hits"]["hits"])


def test_sort_on_text_field_rejected(http, people):
    r = http.post(f"/{people}/_search", json={"sort": [{"text": "asc"}]})
    harness.assert_es_error(r, 400, {"search_phase_execution_exception", "illegal_argument_exception"},
                            reason_contains="text")


def test_source_filtering(http, people):
    q = {"query": {"ids": {"values": ["a"]}}}
    assert search(http, people, {**q, "_source": False})["hits"]["hits"][0].get("_source") is None
    assert search(http, people, {**q, "_source": True})["hits"]["hits"][0]["_source"]["name"] == "alice"
    assert search(http, people, {**q, "_source": "name"})["hits"]["hits"][0]["_source"] == {"name": "alice"}
    assert search(http, people, {**q, "_source": ["name", "n"]})["hits"]["hits"][0]["_source"] == {
        "name": "alice", "n": 30}
    assert search(http, people, {**q, "_source": {"includes": ["meta.*"]}})["hits"]["hits"][0]["_source"] == {
        "meta": {"a": "x", "b": "y"}}
    assert search(http, people, {**q, "_source": {"includes": ["meta"], "excludes": ["meta.b"]}})[
        "hits"]["hits"][0]["_source"] == {"meta": {"a": "x"}}
    assert search(http, people, {**q, "_source": {"excludes": ["text", "meta", "day", "f"]}})[
        "hits"]["hits"][0]["_source"] == {"name": "alice", "n": 30}
    assert search(http, people, {**q, "_source": ["n*"]})["hits"]["hits"][0]["_source"] == {
        "name": "alice", "n": 30}
    r = http.get(f"/{people}/_search", params={"q": "name:alice", "_source_includes": "n"})
    assert r.json()["hits"]["hits"][0]["_source"] == {"n": 30}
    r = http.get(f"/{people}/_search", params={"q": "name:alice", "_source": "false"})
    assert "_source" not in r.json()["hits"]["hits"][0]


def test_source_exclude_vectors_accepted(http, people, flavor):
    """elasticsearch-py 9's dsl adds this to every search; searchgate has no vectors to exclude."""
    if flavor != "elasticsearch":
        pytest.skip("ES 9 feature; OpenSearch 2.x rejects it (parsing_exception)")
    r = http.post(f"/{people}/_search", json={"query": {"ids": {"values": ["b"]}},
                                              "_source": {"exclude_vectors": False}})
    assert r.status_code == 200, r.text
    assert r.json()["hits"]["hits"][0]["_source"]["name"] == "bob"


def test_track_total_hits(http, make_index):
    name = make_index()
    lines = []
    for i in range(10050):
        lines += [{"index": {"_id": str(i)}}, {"i": i}]
    r = http.bulk(lines, path=f"/{name}/_bulk", params={"refresh": "true"})
    assert r.status_code == 200 and r.json()["errors"] is False

    body = search(http, name, {"size": 0})
    assert body["hits"]["total"] == {"value": 10000, "relation": "gte"}  # default: accurate up to 10,000
    body = search(http, name, {"size": 0, "track_total_hits": True})
    assert body["hits"]["total"] == {"value": 10050, "relation": "eq"}
    body = search(http, name, {"size": 1, "track_total_hits": False})
    assert "total" not in body["hits"]
    assert len(body["hits"]["hits"]) == 1
    body = search(http, name, {"size": 0, "track_total_hits": 100})
    assert body["hits"]["total"] == {"value": 100, "relation": "gte"}
    body = search(http, name, {"size": 0, "track_total_hits": 20000})
    assert body["hits"]["total"] == {"value": 10050, "relation": "eq"}
    body = search(http, name, {"size": 0, "track_total_hits": 5, "query": {"range": {"i": {"lt": 3}}}})
    assert body["hits"]["total"] == {"value": 3, "relation": "eq"}
    r = http.get(f"/{name}/_search", params={"track_total_hits": "true", "size": "0"})
    assert r.json()["hits"]["total"] == {"value": 10050, "relation": "eq"}
    assert http.get(f"/{name}/_count").json()["count"] == 10050


def test_count(http, people):
    r = http.get(f"/{people}/_count")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 5
    assert body["_shards"] == {"total": 1, "successful": 1, "skipped": 0, "failed": 0}
    r = http.post(f"/{people}/_count", json={"query": {"range": {"n": {"gte": 20}}}})
    assert r.json()["count"] == 3
    r = http.post(f"/{people}/_count", json={"query": {"match_none": {}}})
    assert r.json()["count"] == 0
    r = http.post(f"/{people}/_count", json={"query": {"match_all": {}}, "size": 3})
    harness.assert_es_error(r, 400, {"parsing_exception", "x_content_parse_exception",
                                     "illegal_argument_exception"})


def test_count_and_search_missing_index(http, new_index):
    missing = new_index()
    for path in (f"/{missing}/_count", f"/{missing}/_search"):
        r = http.get(path)
        err = harness.assert_es_error(r, 404, "index_not_found_exception", reason_contains=missing)
        assert err["index"] == missing


# --------------------------------------------------------------------------- index expressions


@pytest.fixture
def trio(http, new_index, load):
    prefix = f"t-expr-{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}-one", f"{prefix}-two", f"{prefix}-three"]
    tag = uuid.uuid4().hex
    for i, n in enumerate(names):
        r = http.put(f"/{n}", json={"settings": {"number_of_replicas": 0},
                                    "mappings": {"properties": {"tag": {"type": "keyword"}}}})
        assert r.status_code == 200, r.text
        load(n, {f"{n}-{j}": {"tag": tag, "j": j} for j in range(i + 1)})
    yield prefix, names, tag
    http.delete(f"/{prefix}-*")


def _total(http, path, tag, params=None):
    r = http.post(path, json={"query": {"term": {"tag": tag}}, "size": 100}, params=params)
    assert r.status_code == 200, f"{path}: {r.status_code} {r.text}"
    return r.json()["hits"]["total"]["value"], {h["_index"] for h in r.json()["hits"]["hits"]}


def test_index_expressions(http, trio):
    prefix, (one, two, three), tag = trio
    assert _total(http, f"/{one}/_search", tag) == (1, {one})
    assert _total(http, f"/{one},{three}/_search", tag) == (4, {one, three})
    assert _total(http, f"/{prefix}-*/_search", tag) == (6, {one, two, three})
    assert _total(http, f"/{prefix}-t*/_search", tag) == (5, {two, three})
    assert _total(http, f"/{prefix}-*,-{prefix}-two/_search", tag) == (4, {one, three})
    assert _total(http, f"/{one},{prefix}-th*/_search", tag) == (4, {one, three})
    assert _total(http, "/_all/_search", tag) == (6, {one, two, three})
    assert _total(http, "/*/_search", tag) == (6, {one, two, three})
    assert _total(http, "/_search", tag) == (6, {one, two, three})
    r = http.post(f"/{prefix}-*/_count", json={"query": {"term": {"tag": tag}}})
    assert r.json()["count"] == 6
    r = http.get("/_count", params={"q": f"tag:{tag}"})
    assert r.json()["count"] == 6


def test_index_expressions_missing(http, trio, new_index):
    prefix, (one, two, three), tag = trio
    missing = new_index()
    r = http.post(f"/{one},{missing}/_search", json={})
    harness.assert_es_error(r, 404, "index_not_found_exception", reason_contains=missing)
    assert _total(http, f"/{one},{missing}/_search", tag, params={"ignore_unavailable": "true"}) == (1, {one})
    # a wildcard that matches nothing is not an error (allow_no_indices defaults to true)
    r = http.post(f"/{missing}-*/_search", json={})
    assert r.status_code == 200
    body = r.json()
    assert body["hits"]["total"] == {"value": 0, "relation": "eq"} and body["_shards"]["total"] == 0


def test_index_expressions_with_client(es, trio):
    prefix, (one, two, three), tag = trio
    resp = es.search(index=[one, two], query={"term": {"tag": tag}})
    assert resp["hits"]["total"]["value"] == 3
    resp = es.search(index=f"{prefix}-*", query={"term": {"tag": tag}}, size=0)
    assert resp["hits"]["total"]["value"] == 6
    assert es.count(index="_all", query={"term": {"tag": tag}})["count"] == 6


def test_search_get_with_body_and_client(es, people):
    resp = es.search(index=people, query={"match": {"text": "red"}}, sort=[{"n": "desc"}], size=2, from_=0,
                     source=["name"], track_total_hits=True)
    assert resp["hits"]["total"] == {"value": 3, "relation": "eq"}
    assert [h["_source"] for h in resp["hits"]["hits"]] == [{"name": "alice"}, {"name": "carol"}]
    r = es.search(index=people, source_includes=["n"], query={"ids": {"values": ["b"]}})
    assert r["hits"]["hits"][0]["_source"] == {"n": 10}


def test_search_get_with_body(http, people):
    r = http.get(f"/{people}/_search", json={"query": {"term": {"name": "bob"}}})
    assert [h["_id"] for h in r.json()["hits"]["hits"]] == ["b"]
