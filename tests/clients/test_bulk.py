"""_bulk and /{index}/_bulk: index/create/update/delete, per-item results in order, the errors flag,
per-item failures, whole-request rejections; helpers.bulk from both official clients."""

import pytest

import harness

DOC_PARSE_ERRORS = {"document_parsing_exception", "mapper_parsing_exception"}


def test_bulk_all_actions(http, make_index):
    name = make_index({"mappings": {"properties": {"n": {"type": "long"}, "t": {"type": "keyword"}}}})
    http.put(f"/{name}/_doc/existing", json={"n": 0, "t": "old"})
    r = http.bulk([
        {"index": {"_index": name, "_id": "1"}}, {"n": 1, "t": "a"},
        {"create": {"_index": name, "_id": "2"}}, {"n": 2, "t": "b"},
        {"index": {"_index": name}}, {"n": 3, "t": "c"},  # generated id
        {"update": {"_index": name, "_id": "existing"}}, {"doc": {"t": "new"}},
        {"update": {"_index": name, "_id": "4"}}, {"doc": {"n": 4}, "doc_as_upsert": True},
        {"delete": {"_index": name, "_id": "1"}},
        {"index": {"_index": name, "_id": "1"}}, {"n": 11, "t": "again"},
    ], params={"refresh": "true"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["errors"] is False
    assert isinstance(body["took"], int)
    items = body["items"]
    assert [list(it) for it in items] == [["index"], ["create"], ["index"], ["update"], ["update"], ["delete"],
                                          ["index"]]
    got = [(list(it.values())[0]["status"], list(it.values())[0]["result"]) for it in items]
    assert got == [(201, "created"), (201, "created"), (201, "created"), (200, "updated"), (201, "created"),
                   (200, "deleted"), (201, "created")]
    for it in items:
        res = list(it.values())[0]
        assert res["_index"] == name
        assert isinstance(res["_id"], str) and res["_id"]
        assert {"_version", "_seq_no", "_primary_term", "_shards"} <= set(res), res
    assert items[0]["index"]["_id"] == "1" and items[0]["index"]["_version"] == 1
    assert items[5]["delete"]["_version"] == 2
    assert items[6]["index"]["_version"] == 3
    seqs = [list(it.values())[0]["_seq_no"] for it in items]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)

    assert http.get(f"/{name}/_doc/existing").json()["_source"] == {"n": 0, "t": "new"}
    assert http.get(f"/{name}/_doc/1").json()["_source"] == {"n": 11, "t": "again"}
    assert http.get(f"/{name}/_count").json()["count"] == 5


def test_bulk_index_in_path(http, make_index, new_index):
    name = make_index()
    other = new_index("other")
    r = http.bulk([
        {"index": {"_id": "1"}}, {"a": 1},
        {"index": {"_index": other, "_id": "1"}}, {"a": 2},  # an explicit _index wins
        {"delete": {"_id": "nope"}},
    ], path=f"/{name}/_bulk", params={"refresh": "true"})
    body = r.json()
    assert r.status_code == 200, body
    assert body["items"][0]["index"]["_index"] == name
    assert body["items"][1]["index"]["_index"] == other  # auto-created
    assert body["items"][2]["delete"]["status"] == 404 and body["items"][2]["delete"]["result"] == "not_found"
    assert body["errors"] is False, "a delete of a missing doc is not an error"
    assert http.get(f"/{other}/_doc/1").json()["_source"] == {"a": 2}


def test_bulk_bad_items_fail_alone(http, make_index):
    name = make_index({"mappings": {"properties": {"n": {"type": "long"}}}})
    http.put(f"/{name}/_doc/dup", json={"n": 0})
    r = http.bulk([
        {"index": {"_index": name, "_id": "1"}}, {"n": 1},
        {"index": {"_index": name, "_id": "2"}}, {"n": "not a number"},  # mapping error
        {"create": {"_index": name, "_id": "dup"}}, {"n": 2},  # exists
        {"update": {"_index": name, "_id": "missing"}}, {"doc": {"n": 3}},  # missing doc
        {"index": {"_index": name, "_id": "3"}}, '{"n": 3, broken json',  # a malformed source line
        {"index": {"_index": "Invalid-Name", "_id": "1"}}, {"n": 4},  # invalid index name
        {"index": {"_index": name, "_id": "4"}}, {"n": 4},
    ])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["errors"] is True
    items = [list(it.items())[0] for it in body["items"]]
    assert [op for op, _ in items] == ["index", "index", "create", "update", "index", "index", "index"]
    statuses = [res["status"] for _, res in items]
    assert statuses == [201, 400, 409, 404, 400, 400, 201], items
    assert "error" not in items[0][1] and "error" not in items[6][1]
    assert items[1][1]["error"]["type"] in DOC_PARSE_ERRORS
    assert items[2][1]["error"]["type"] == "version_conflict_engine_exception"
    assert items[3][1]["error"]["type"] == "document_missing_exception"
    assert items[4][1]["error"]["type"] in DOC_PARSE_ERRORS
    assert items[5][1]["error"]["type"] == "invalid_index_name_exception"
    for _, res in items[1:6]:
        assert isinstance(res["error"]["reason"], str) and res["_id"]
    assert items[1][1]["_index"] == name and items[1][1]["_id"] == "2"
    assert http.get(f"/{name}/_doc/1").json()["found"] is True
    assert http.get(f"/{name}/_doc/4").json()["found"] is True
    assert http.get(f"/{name}/_doc/2").json()["found"] is False
    assert http.get(f"/{name}/_doc/dup").json()["_source"] == {"n": 0}


@pytest.mark.parametrize(
    "body,reason",
    [
        ('{"index": {"_index": "x", "_id": ]}}\n{"a": 1}\n', None),  # action line is not valid JSON
        ('not json\n{"a": 1}\n', None),
        ('{"frobnicate": {"_index": "x"}}\n{"a": 1}\n', "frobnicate"),  # unknown action
        ('{"index": {"_index": "x", "_id": "1", "bogus": 1}}\n{"a": 1}\n', "bogus"),  # unknown action field
        ('{"index": {"_index": "x", "_id": "1"}}\n{"a": 1}', None),  # no final newline
        ('{"update": {"_index": "x", "_id": "1"}}\n{"doc": {"a": 1}, broken\n', None),  # update body parsed eagerly
        ('{"index": {"_index": "x", "_id": "1"}}\n', None),  # action without its source line
        ('\n', None),  # no requests at all
    ],
    ids=["bad-json-action", "garbage-action", "unknown-action", "unknown-action-field", "no-final-newline", "bad-update-body",
         "missing-source", "empty"],
)
def test_bulk_malformed_request_rejected_whole(http, new_index, body, reason):
    name = new_index()
    body = body.replace('"x"', f'"{name}"')
    r = http.post("/_bulk", data=body, headers={"Content-Type": "application/x-ndjson"})
    harness.assert_es_error(
        r, 400, {"illegal_argument_exception", "x_content_parse_exception", "parse_exception",
                 "action_request_validation_exception", "json_parse_exception"}, reason_contains=reason)
    assert http.head(f"/{name}").status_code == 404, "nothing of a rejected bulk is applied"


def test_bulk_large_batch(http, make_index):
    name = make_index()
    lines = []
    for i in range(2000):
        lines += [{"index": {"_id": str(i)}}, {"i": i, "s": f"doc {i}"}]
    r = http.bulk(lines, path=f"/{name}/_bulk", params={"refresh": "wait_for"})
    body = r.json()
    assert r.status_code == 200 and body["errors"] is False
    assert [it["index"]["_id"] for it in body["items"]] == [str(i) for i in range(2000)]
    assert http.get(f"/{name}/_count").json()["count"] == 2000


def test_helpers_bulk_elasticsearch(es, make_index):
    from elasticsearch import helpers

    name = make_index({"mappings": {"properties": {"n": {"type": "long"}}}})
    actions = ({"_index": name, "_id": str(i), "_source": {"n": i}} for i in range(1234))
    ok, errors = helpers.bulk(es, actions, chunk_size=200, refresh="wait_for")
    assert ok == 1234 and errors == []
    assert es.count(index=name)["count"] == 1234

    more = [{"_op_type": "delete", "_index": name, "_id": str(i)} for i in range(10)]
    more += [{"_op_type": "update", "_index": name, "_id": "20", "doc": {"n": -1}}]
    more += [{"_op_type": "create", "_index": name, "_id": "new", "_source": {"n": 5000}}]
    ok, errors = helpers.bulk(es, more, refresh=True)
    assert ok == 12
    assert es.count(index=name)["count"] == 1234 - 10 + 1
    assert es.get(index=name, id="20")["_source"] == {"n": -1}


def test_helpers_bulk_reports_item_errors(es, make_index):
    from elasticsearch import helpers

    name = make_index({"mappings": {"properties": {"n": {"type": "long"}}}})
    actions = [{"_index": name, "_id": "1", "_source": {"n": 1}},
               {"_index": name, "_id": "2", "_source": {"n": "bad"}},
               {"_index": name, "_id": "3", "_source": {"n": 3}}]
    with pytest.raises(helpers.BulkIndexError) as ei:
        helpers.bulk(es, actions)
    assert len(ei.value.errors) == 1
    assert ei.value.errors[0]["index"]["_id"] == "2" and ei.value.errors[0]["index"]["status"] == 400
    ok, errors = helpers.bulk(es, actions, raise_on_error=False, refresh=True)
    assert ok == 2 and len(errors) == 1
    assert es.count(index=name)["count"] == 2


def test_streaming_and_parallel_bulk(es, make_index):
    from elasticsearch import helpers

    name = make_index()
    results = list(helpers.streaming_bulk(es, ({"_index": name, "_id": str(i), "v": i} for i in range(300)),
                                          chunk_size=50))
    assert len(results) == 300 and all(ok for ok, _ in results)
    results = list(helpers.parallel_bulk(es, ({"_index": name, "_id": f"p{i}", "v": i} for i in range(300)),
                                         chunk_size=50, thread_count=2))
    assert all(ok for ok, _ in results)
    es.indices.refresh(index=name)
    assert es.count(index=name)["count"] == 600


def test_client_bulk_api(es, make_index):
    name = make_index()
    resp = es.bulk(operations=[
        {"index": {"_index": name, "_id": "1"}}, {"a": 1},
        {"create": {"_index": name, "_id": "1"}}, {"a": 2},
    ], refresh=True)
    assert resp["errors"] is True
    assert [list(it.values())[0]["status"] for it in resp["items"]] == [201, 409]


def test_helpers_bulk_opensearch_py(osc, make_index):
    from opensearchpy import helpers

    name = make_index()
    ok, errors = helpers.bulk(osc, ({"_index": name, "_id": str(i), "_source": {"i": i}} for i in range(500)),
                              refresh=True)
    assert ok == 500 and not errors
    assert osc.count(index=name)["count"] == 500
