"""opensearch-py, unmodified, against the same API: it sends plain application/json and no product check,
so it is also what an OpenSearch-era application would use against searchgate."""

import pytest
from opensearchpy import helpers
from opensearchpy.exceptions import ConflictError, NotFoundError, RequestError

import harness


def test_index_lifecycle(osc, index):
    body = {"settings": {"number_of_shards": 1, "number_of_replicas": 0},
            "mappings": {"properties": {"title": {"type": "text"}, "n": {"type": "integer"}}}}
    assert osc.indices.create(index=index, body=body)["acknowledged"] is True
    assert osc.indices.exists(index=index)
    got = osc.indices.get(index=index)[index]
    assert got["mappings"]["properties"]["n"] == {"type": "integer"}
    osc.indices.put_mapping(index=index, body={"properties": {"tag": {"type": "keyword"}}})
    assert "tag" in osc.indices.get_mapping(index=index)[index]["mappings"]["properties"]
    with pytest.raises(RequestError) as ei:
        osc.indices.create(index=index)
    harness.assert_es_error(ei.value, 400, "resource_already_exists_exception")
    osc.indices.delete(index=index)
    with pytest.raises(NotFoundError) as ei:
        osc.indices.delete(index=index)
    harness.assert_es_error(ei.value, 404, "index_not_found_exception")


def test_documents(osc, index):
    r = osc.index(index=index, id="1", body={"title": "hello world", "n": 1}, refresh=True)
    assert r["result"] == "created" and r["_version"] == 1
    r = osc.index(index=index, body={"title": "generated", "n": 2}, refresh=True)
    gen_id = r["_id"]
    assert osc.get(index=index, id=gen_id)["_source"]["n"] == 2
    assert osc.exists(index=index, id="1") is True
    assert osc.exists(index=index, id="nope") is False
    assert osc.get_source(index=index, id="1") == {"title": "hello world", "n": 1}
    with pytest.raises(ConflictError) as ei:
        osc.create(index=index, id="1", body={"title": "again"})
    harness.assert_es_error(ei.value, 409, "version_conflict_engine_exception")
    r = osc.update(index=index, id="1", body={"doc": {"n": 10}}, refresh=True)
    assert r["result"] == "updated"
    assert osc.get(index=index, id="1")["_source"] == {"title": "hello world", "n": 10}
    r = osc.mget(index=index, body={"ids": ["1", "nope"]})
    assert [d["found"] for d in r["docs"]] == [True, False]
    assert osc.delete(index=index, id="1", refresh=True)["result"] == "deleted"
    with pytest.raises(NotFoundError):
        osc.get(index=index, id="1")
    assert osc.count(index=index)["count"] == 1


def test_search(osc, make_index):
    name = make_index({"mappings": {"properties": {"title": {"type": "text"}, "n": {"type": "integer"},
                                                   "tag": {"type": "keyword"}}}})
    ok, _ = helpers.bulk(osc, [{"_index": name, "_id": str(i), "_source": {
        "title": f"document number {i}" + (" special" if i % 10 == 0 else ""), "n": i,
        "tag": "even" if i % 2 == 0 else "odd"}} for i in range(100)], refresh=True)
    assert ok == 100
    r = osc.search(index=name, body={"query": {"match": {"title": "special"}}, "size": 20})
    assert r["hits"]["total"] == {"value": 10, "relation": "eq"}
    assert sorted(int(h["_id"]) for h in r["hits"]["hits"]) == list(range(0, 100, 10))
    r = osc.search(index=name, body={"query": {"bool": {"filter": [{"term": {"tag": "odd"}},
                                                                    {"range": {"n": {"lt": 10}}}]}},
                                     "sort": [{"n": "desc"}], "_source": ["n"]})
    assert [h["_source"]["n"] for h in r["hits"]["hits"]] == [9, 7, 5, 3, 1]
    assert [h["sort"] for h in r["hits"]["hits"]] == [[9], [7], [5], [3], [1]]
    r = osc.search(index=name, q="tag:even", size=0)
    assert r["hits"]["total"]["value"] == 50
    r = osc.search(index=name, body={"query": {"match_all": {}}, "from": 95, "size": 10, "sort": ["n"]})
    assert [h["_source"]["n"] for h in r["hits"]["hits"]] == [95, 96, 97, 98, 99]
    with pytest.raises(RequestError) as ei:
        osc.search(index=name, body={"query": {"no_such_query": {}}})
    harness.assert_es_error(ei.value, 400, "parsing_exception", reason_contains="no_such_query")


def test_cluster_and_cat(osc, make_index):
    name = make_index()
    osc.index(index=name, id="1", body={"a": 1}, refresh=True)
    assert osc.cluster.health(index=name)["status"] == "green"
    rows = osc.cat.indices(index=name, format="json")
    assert rows[0]["index"] == name and rows[0]["docs.count"] == "1"
    assert osc.cat.count(index=name, format="json")[0]["count"] == "1"
    text = osc.cat.health(v=True)
    assert text.splitlines()[0].split()[:4] == ["epoch", "timestamp", "cluster", "status"]
