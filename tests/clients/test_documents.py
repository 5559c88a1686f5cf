"""Document APIs: index (PUT/POST, generated id), _create, get/head/delete, _source, _update, _mget,
versions and sequence numbers, optimistic concurrency, auto-create, real-time get and refresh."""

import pytest

import harness

SHARDS_KEYS = {"total", "successful", "failed"}


def test_index_get_head_delete(http, make_index):
    name = make_index()
    r = http.put(f"/{name}/_doc/1", json={"title": "first"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["_index"] == name and body["_id"] == "1"
    assert body["result"] == "created" and body["_version"] == 1
    assert body["_seq_no"] == 0 and body["_primary_term"] == 1
    assert SHARDS_KEYS <= set(body["_shards"]) and body["_shards"]["failed"] == 0

    r = http.get(f"/{name}/_doc/1")
    assert r.status_code == 200
    assert r.json() == {"_index": name, "_id": "1", "_version": 1, "_seq_no": 0, "_primary_term": 1,
                        "found": True, "_source": {"title": "first"}}

    r = http.head(f"/{name}/_doc/1")
    assert r.status_code == 200 and r.content == b""

    r = http.put(f"/{name}/_doc/1", json={"title": "second"})
    assert r.status_code == 200
    assert r.json()["result"] == "updated" and r.json()["_version"] == 2 and r.json()["_seq_no"] == 1

    r = http.post(f"/{name}/_doc/1", json={"title": "third"})  # POST with an id = index too
    assert r.status_code == 200 and r.json()["_version"] == 3

    r = http.delete(f"/{name}/_doc/1")
    assert r.status_code == 200
    assert r.json()["result"] == "deleted" and r.json()["_version"] == 4 and r.json()["_seq_no"] == 3

    r = http.get(f"/{name}/_doc/1")
    assert r.status_code == 404
    assert r.json() == {"_index": name, "_id": "1", "found": False}
    assert http.head(f"/{name}/_doc/1").status_code == 404

    r = http.delete(f"/{name}/_doc/1")
    assert r.status_code == 404
    assert r.json()["result"] == "not_found"


def test_generated_id(http, make_index):
    name = make_index()
    r = http.post(f"/{name}/_doc", json={"a": 1})
    assert r.status_code == 201, r.text
    body = r.json()
    _id = body["_id"]
    assert isinstance(_id, str) and len(_id) >= 10 and body["result"] == "created"
    r2 = http.post(f"/{name}/_doc", json={"a": 2})
    assert r2.json()["_id"] != _id
    assert http.get(f"/{name}/_doc/{_id}").json()["_source"] == {"a": 1}


def test_create_endpoint(http, make_index):
    name = make_index()
    r = http.put(f"/{name}/_create/1", json={"a": 1})
    assert r.status_code == 201 and r.json()["result"] == "created"
    r = http.put(f"/{name}/_create/1", json={"a": 2})
    harness.assert_es_error(r, 409, "version_conflict_engine_exception", reason_contains="1")
    r = http.post(f"/{name}/_create/2", json={"a": 3})
    assert r.status_code == 201
    r = http.put(f"/{name}/_doc/2", params={"op_type": "create"}, json={"a": 4})
    harness.assert_es_error(r, 409, "version_conflict_engine_exception")
    assert http.get(f"/{name}/_doc/1").json()["_source"] == {"a": 1}


def test_source_endpoint(http, make_index):
    name = make_index()
    http.put(f"/{name}/_doc/1", json={"a": 1, "b": {"c": "d"}})
    r = http.get(f"/{name}/_source/1")
    assert r.status_code == 200
    assert r.json() == {"a": 1, "b": {"c": "d"}}
    r = http.get(f"/{name}/_source/1", params={"_source_includes": "b"})
    assert r.json() == {"b": {"c": "d"}}
    r = http.get(f"/{name}/_source/nope")
    assert r.status_code == 404
    r = http.head(f"/{name}/_source/1")
    assert r.status_code == 200


def test_get_source_filtering(http, make_index):
    name = make_index()
    http.put(f"/{name}/_doc/1", json={"a": 1, "b": 2, "c": {"d": 3, "e": 4}})
    assert http.get(f"/{name}/_doc/1", params={"_source": "false"}).json().get("_source") is None
    assert http.get(f"/{name}/_doc/1", params={"_source_includes": "a,c.d"}).json()["_source"] == {
        "a": 1, "c": {"d": 3}}
    assert http.get(f"/{name}/_doc/1", params={"_source_excludes": "c"}).json()["_source"] == {"a": 1, "b": 2}


def test_missing_doc_and_missing_index(http, make_index, index):
    name = make_index()
    r = http.get(f"/{name}/_doc/nope")
    assert r.status_code == 404 and r.json() == {"_index": name, "_id": "nope", "found": False}
    r = http.get(f"/{index}/_doc/1")
    harness.assert_es_error(r, 404, "index_not_found_exception", reason_contains=index)
    r = http.delete(f"/{index}/_doc/1")
    harness.assert_es_error(r, 404, "index_not_found_exception")


def test_auto_create_on_write(http, index):
    assert http.head(f"/{index}").status_code == 404
    r = http.put(f"/{index}/_doc/1", json={"title": "auto", "n": 1})
    assert r.status_code == 201, r.text
    assert http.head(f"/{index}").status_code == 200
    props = http.get(f"/{index}/_mapping").json()[index]["mappings"]["properties"]
    assert props["n"] == {"type": "long"} and props["title"]["type"] == "text"


def test_auto_create_with_generated_id_and_update_upsert(http, new_index):
    a, b = new_index("a"), new_index("b")
    assert http.post(f"/{a}/_doc", json={"x": 1}).status_code == 201
    r = http.post(f"/{b}/_update/1", json={"doc": {"x": 1}, "doc_as_upsert": True})
    assert r.status_code == 201, r.text
    assert http.head(f"/{a}").status_code == 200 and http.head(f"/{b}").status_code == 200


# --------------------------------------------------------------------------- _update


def test_update_partial_doc(http, make_index):
    name = make_index()
    http.put(f"/{name}/_doc/1", json={"a": 1, "o": {"x": 1, "y": 2}, "keep": "me"})
    r = http.post(f"/{name}/_update/1", json={"doc": {"a": 2, "o": {"y": 3, "z": 4}, "new": True}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["result"] == "updated" and body["_version"] == 2 and body["_seq_no"] == 1
    assert body["_index"] == name and body["_id"] == "1"
    src = http.get(f"/{name}/_doc/1").json()["_source"]
    assert src == {"a": 2, "o": {"x": 1, "y": 3, "z": 4}, "keep": "me", "new": True}  # objects merge deeply


def test_update_noop(http, make_index):
    name = make_index()
    http.put(f"/{name}/_doc/1", json={"a": 1})
    r = http.post(f"/{name}/_update/1", json={"doc": {"a": 1}})
    assert r.status_code == 200
    assert r.json()["result"] == "noop" and r.json()["_version"] == 1


def test_update_missing_doc(http, make_index):
    name = make_index()
    r = http.post(f"/{name}/_update/nope", json={"doc": {"a": 1}})
    harness.assert_es_error(r, 404, "document_missing_exception", reason_contains="nope")


def test_update_doc_as_upsert(http, make_index):
    name = make_index()
    r = http.post(f"/{name}/_update/1", json={"doc": {"a": 1}, "doc_as_upsert": True})
    assert r.status_code == 201 and r.json()["result"] == "created" and r.json()["_version"] == 1
    r = http.post(f"/{name}/_update/1", json={"doc": {"b": 2}, "doc_as_upsert": True})
    assert r.status_code == 200 and r.json()["result"] == "updated"
    assert http.get(f"/{name}/_doc/1").json()["_source"] == {"a": 1, "b": 2}


def test_update_upsert(http, make_index):
    name = make_index()
    body = {"doc": {"count": 100}, "upsert": {"count": 1, "first": True}}
    r = http.post(f"/{name}/_update/1", json=body)
    assert r.status_code == 201 and r.json()["result"] == "created"
    assert http.get(f"/{name}/_doc/1").json()["_source"] == {"count": 1, "first": True}
    r = http.post(f"/{name}/_update/1", json=body)
    assert r.status_code == 200 and r.json()["result"] == "updated"
    assert http.get(f"/{name}/_doc/1").json()["_source"] == {"count": 100, "first": True}


def test_update_client(es, make_index):
    name = make_index()
    es.index(index=name, id="1", document={"a": 1})
    resp = es.update(index=name, id="1", doc={"b": 2})
    assert resp["result"] == "updated"
    resp = es.update(index=name, id="2", doc={"c": 3}, doc_as_upsert=True)
    assert resp["result"] == "created"
    resp = es.update(index=name, id="3", doc={"x": 1}, upsert={"x": 0})
    assert resp["result"] == "created"
    assert es.get(index=name, id="1")["_source"] == {"a": 1, "b": 2}
    assert es.get(index=name, id="3")["_source"] == {"x": 0}


# --------------------------------------------------------------------------- _mget


def test_mget(http, make_index, new_index):
    a = make_index(suffix="a")
    b = make_index(suffix="b")
    http.put(f"/{a}/_doc/1", json={"v": "a1"})
    http.put(f"/{a}/_doc/2", json={"v": "a2"})
    http.put(f"/{b}/_doc/1", json={"v": "b1"})
    r = http.post("/_mget", json={"docs": [{"_index": a, "_id": "2"}, {"_index": b, "_id": "1"},
                                           {"_index": a, "_id": "nope"}]})
    assert r.status_code == 200, r.text
    docs = r.json()["docs"]
    assert [(d["_index"], d["_id"], d["found"]) for d in docs] == [(a, "2", True), (b, "1", True),
                                                                   (a, "nope", False)]
    assert docs[0]["_source"] == {"v": "a2"} and docs[0]["_version"] == 1
    assert "_source" not in docs[2]

    r = http.post(f"/{a}/_mget", json={"ids": ["2", "1", "3"]})
    docs = r.json()["docs"]
    assert [d["_id"] for d in docs] == ["2", "1", "3"]
    assert [d["found"] for d in docs] == [True, True, False]

    r = http.post(f"/{a}/_mget", json={"docs": [{"_id": "1", "_source": False}, {"_id": "2"}]})
    docs = r.json()["docs"]
    assert "_source" not in docs[0] and docs[1]["_source"] == {"v": "a2"}

    # a missing index fails only its entry
    missing = new_index("missing")
    r = http.post("/_mget", json={"docs": [{"_index": missing, "_id": "1"}, {"_index": a, "_id": "1"}]})
    assert r.status_code == 200
    docs = r.json()["docs"]
    assert docs[0]["error"]["type"] == "index_not_found_exception"
    assert docs[1]["found"] is True


def test_mget_client(es, make_index):
    name = make_index()
    es.index(index=name, id="1", document={"v": 1})
    es.index(index=name, id="2", document={"v": 2})
    resp = es.mget(index=name, ids=["1", "2", "3"])
    assert [d["found"] for d in resp["docs"]] == [True, True, False]
    resp = es.mget(docs=[{"_index": name, "_id": "2"}])
    assert resp["docs"][0]["_source"] == {"v": 2}


# --------------------------------------------------------------------------- versions, optimistic concurrency


def test_seq_no_and_primary_term_concurrency(http, make_index):
    name = make_index()
    first = http.put(f"/{name}/_doc/1", json={"v": 1}).json()
    http.put(f"/{name}/_doc/other", json={"v": 0})  # moves the shard's seq_no on
    seq, term = first["_seq_no"], first["_primary_term"]

    r = http.put(f"/{name}/_doc/1", params={"if_seq_no": seq + 5, "if_primary_term": term}, json={"v": 2})
    harness.assert_es_error(r, 409, "version_conflict_engine_exception", reason_contains="1")
    r = http.put(f"/{name}/_doc/1", params={"if_seq_no": seq, "if_primary_term": term + 1}, json={"v": 2})
    harness.assert_es_error(r, 409, "version_conflict_engine_exception")

    r = http.put(f"/{name}/_doc/1", params={"if_seq_no": seq, "if_primary_term": term}, json={"v": 2})
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["_version"] == 2 and second["_seq_no"] > seq
    # the old seq_no is stale now
    r = http.put(f"/{name}/_doc/1", params={"if_seq_no": seq, "if_primary_term": term}, json={"v": 3})
    harness.assert_es_error(r, 409, "version_conflict_engine_exception")
    r = http.delete(f"/{name}/_doc/1", params={"if_seq_no": seq, "if_primary_term": term})
    harness.assert_es_error(r, 409, "version_conflict_engine_exception")
    r = http.post(f"/{name}/_update/1", params={"if_seq_no": seq, "if_primary_term": term}, json={"doc": {"v": 9}})
    harness.assert_es_error(r, 409, "version_conflict_engine_exception")

    got = http.get(f"/{name}/_doc/1").json()
    assert got["_source"] == {"v": 2} and got["_seq_no"] == second["_seq_no"]
    r = http.delete(f"/{name}/_doc/1", params={"if_seq_no": got["_seq_no"], "if_primary_term": term})
    assert r.status_code == 200


def test_seq_no_increases_across_docs(http, make_index):
    name = make_index()
    seqs = [http.put(f"/{name}/_doc/{i}", json={"i": i}).json()["_seq_no"] for i in range(5)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5


def test_concurrency_client(es, make_index):
    from elasticsearch import ConflictError

    name = make_index()
    resp = es.index(index=name, id="1", document={"v": 1})
    with pytest.raises(ConflictError) as ei:
        es.index(index=name, id="1", document={"v": 2}, if_seq_no=resp["_seq_no"] + 1,
                 if_primary_term=resp["_primary_term"])
    harness.assert_es_error(ei.value, 409, "version_conflict_engine_exception")
    with pytest.raises(ConflictError):
        es.create(index=name, id="1", document={"v": 3})
    got = es.get(index=name, id="1")
    assert got["_version"] == 1 and got["_seq_no"] == resp["_seq_no"] and got["_primary_term"] == 1


# --------------------------------------------------------------------------- real time, refresh


def _count(http, name, query=None):
    r = http.post(f"/{name}/_search", json={"query": query or {"match_all": {}}, "track_total_hits": True})
    assert r.status_code == 200, r.text
    return r.json()["hits"]["total"]["value"]


def test_realtime_get_before_refresh(http, make_index):
    name = make_index({"settings": {"refresh_interval": "-1"}})
    r = http.put(f"/{name}/_doc/1", json={"t": "hello"})
    assert r.status_code == 201
    assert http.get(f"/{name}/_doc/1").json()["found"] is True  # real-time GET
    assert http.post(f"/{name}/_mget", json={"ids": ["1"]}).json()["docs"][0]["found"] is True
    assert _count(http, name) == 0  # search does not see it yet
    assert http.post(f"/{name}/_count").json()["count"] == 0
    r = http.post(f"/{name}/_refresh")
    assert r.status_code == 200, r.text
    assert r.json()["_shards"]["failed"] == 0
    assert _count(http, name) == 1

    # updates and deletes are real-time for GET too, and invisible to search until refresh
    http.put(f"/{name}/_doc/1", json={"t": "changed"})
    assert http.get(f"/{name}/_doc/1").json()["_source"] == {"t": "changed"}
    assert _count(http, name, {"match": {"t": "hello"}}) == 1
    http.delete(f"/{name}/_doc/1")
    assert http.get(f"/{name}/_doc/1").json()["found"] is False
    assert _count(http, name) == 1
    http.post(f"/{name}/_refresh")
    assert _count(http, name) == 0


@pytest.mark.parametrize("refresh", ["true", "", "wait_for"])
def test_refresh_param_makes_searchable(http, make_index, refresh):
    name = make_index({"settings": {"refresh_interval": "-1"}} if refresh != "wait_for" else None)
    r = http.put(f"/{name}/_doc/1", params={"refresh": refresh}, json={"t": "x"})
    assert r.status_code == 201
    if refresh != "wait_for":
        assert r.json()["forced_refresh"] is True
    assert _count(http, name) == 1
    r = http.post(f"/{name}/_doc", params={"refresh": refresh}, json={"t": "y"})
    assert _count(http, name) == 2
    r = http.post(f"/{name}/_update/1", params={"refresh": refresh}, json={"doc": {"t": "z"}})
    assert _count(http, name, {"term": {"t.keyword": "z"}}) == 1
    r = http.delete(f"/{name}/_doc/1", params={"refresh": refresh})
    assert _count(http, name) == 1


def test_refresh_interval_default_makes_docs_visible(http, make_index):
    import time

    name = make_index()
    http.put(f"/{name}/_doc/1", json={"t": "x"})
    deadline = time.monotonic() + 10
    while _count(http, name) == 0:
        assert time.monotonic() < deadline, "doc not visible to search 10 s after indexing (refresh_interval 1s)"
        time.sleep(0.2)


def test_refresh_all_and_index_expressions(http, make_index):
    a = make_index({"settings": {"refresh_interval": "-1"}}, "a")
    b = make_index({"settings": {"refresh_interval": "-1"}}, "b")
    http.put(f"/{a}/_doc/1", json={"x": 1})
    http.put(f"/{b}/_doc/1", json={"x": 1})
    assert http.post(f"/{a},{b}/_refresh").status_code == 200
    assert _count(http, a) == 1 and _count(http, b) == 1
    assert http.post("/_refresh").status_code == 200
    assert http.get(f"/{a}/_refresh").status_code == 200


def test_crud_client(es, make_index):
    from elasticsearch import NotFoundError

    name = make_index()
    resp = es.index(index=name, id="1", document={"title": "hello"}, refresh="wait_for")
    assert resp["result"] == "created"
    assert es.exists(index=name, id="1")
    assert es.get(index=name, id="1")["_source"] == {"title": "hello"}
    assert es.get_source(index=name, id="1") == {"title": "hello"}
    resp = es.index(index=name, document={"title": "generated"})
    assert resp["result"] == "created" and resp["_id"]
    es.create(index=name, id="2", document={"title": "two"}, refresh=True)
    assert es.count(index=name)["count"] == 3
    assert es.delete(index=name, id="1")["result"] == "deleted"
    assert not es.exists(index=name, id="1")
    with pytest.raises(NotFoundError) as ei:
        es.get(index=name, id="1")
    assert ei.value.body["found"] is False
    with pytest.raises(NotFoundError):
        es.delete(index=name, id="1")
