"""Index APIs: create (settings + mappings), delete, exists, get, get/put mapping, name validation."""

import pytest

import harness

MAPPINGS = {
    "properties": {
        "title": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
        "tag": {"type": "keyword"},
        "n": {"type": "long"},
    }
}


def test_create_get_exists_delete(http, index):
    body = {"settings": {"number_of_shards": 1, "number_of_replicas": 0}, "mappings": MAPPINGS}
    r = http.put(f"/{index}", json=body)
    assert r.status_code == 200, r.text
    assert r.json() == {"acknowledged": True, "shards_acknowledged": True, "index": index}

    assert http.head(f"/{index}").status_code == 200

    r = http.get(f"/{index}")
    assert r.status_code == 200
    got = r.json()
    assert list(got) == [index]
    entry = got[index]
    assert entry["aliases"] == {}
    assert entry["mappings"] == MAPPINGS
    s = entry["settings"]["index"]
    assert s["number_of_shards"] == "1" and s["number_of_replicas"] == "0"  # settings come back as strings
    assert s["provided_name"] == index
    assert s["uuid"] and s["creation_date"].isdigit()
    assert "created" in s["version"]

    r = http.delete(f"/{index}")
    assert r.status_code == 200
    assert r.json() == {"acknowledged": True}
    r = http.head(f"/{index}")
    assert r.status_code == 404 and r.content == b""


def test_create_index_client(es, index):
    resp = es.indices.create(index=index, settings={"number_of_shards": 1, "number_of_replicas": 0},
                             mappings=MAPPINGS)
    assert resp["acknowledged"] is True and resp["index"] == index
    assert es.indices.exists(index=index)
    got = es.indices.get(index=index)
    assert got[index]["mappings"] == MAPPINGS
    assert es.indices.get_mapping(index=index)[index]["mappings"] == MAPPINGS
    assert es.indices.delete(index=index)["acknowledged"] is True
    assert not es.indices.exists(index=index)


def test_create_index_opensearch_py(osc, index):
    resp = osc.indices.create(index=index, body={"settings": {"number_of_replicas": 0}, "mappings": MAPPINGS})
    assert resp["acknowledged"] is True
    assert osc.indices.exists(index=index) is True
    assert osc.indices.get_mapping(index=index)[index]["mappings"] == MAPPINGS
    osc.indices.delete(index=index)
    assert osc.indices.exists(index=index) is False


@pytest.mark.parametrize(
    "settings",
    [
        {"number_of_shards": 1, "number_of_replicas": 0},
        {"index": {"number_of_shards": 1, "number_of_replicas": 0}},
        {"index.number_of_shards": 1, "index.number_of_replicas": "0"},
    ],
    ids=["bare", "nested", "dotted"],
)
def test_settings_forms(http, index, settings):
    r = http.put(f"/{index}", json={"settings": settings})
    assert r.status_code == 200, r.text
    s = http.get(f"/{index}/_settings").json()[index]["settings"]["index"]
    assert s["number_of_shards"] == "1" and s["number_of_replicas"] == "0"


def test_create_without_body(http, index):
    r = http.put(f"/{index}")
    assert r.status_code == 200, r.text
    assert http.get(f"/{index}/_mapping").json() == {index: {"mappings": {}}}


def test_create_existing_index(http, make_index):
    name = make_index()
    r = http.put(f"/{name}")
    err = harness.assert_es_error(r, 400, "resource_already_exists_exception", reason_contains=name)
    assert err.get("index") == name


def test_missing_index_errors(http, index):
    for method in ("GET", "DELETE"):
        r = http.request(method, f"/{index}")
        err = harness.assert_es_error(r, 404, "index_not_found_exception", reason_contains=index)
        assert err.get("index") == index
    r = http.get(f"/{index}/_mapping")
    harness.assert_es_error(r, 404, "index_not_found_exception")


def test_missing_index_client(es, index):
    from elasticsearch import NotFoundError

    with pytest.raises(NotFoundError) as ei:
        es.indices.get(index=index)
    harness.assert_es_error(ei.value, 404, "index_not_found_exception")
    assert es.indices.exists(index=index).body is False


@pytest.mark.parametrize(
    "bad",
    [
        "UpperCase",
        "_leading-underscore",
        "-leading-dash",
        "+leading-plus",
        "has space",
        "has*star",
        "has?question",
        'has"quote',
        "has<lt",
        "has>gt",
        "has|pipe",
        "has,comma",
        "has:colon",
        "has\\backslash",
        ".",
        "..",
        "x" * 256,
    ],
)
def test_invalid_index_names(http, bad):
    from urllib.parse import quote

    r = http.raw("PUT", "/" + quote(bad, safe=""))
    harness.assert_es_error(r, 400, "invalid_index_name_exception")


def test_invalid_index_name_client(es):
    from elasticsearch import BadRequestError

    with pytest.raises(BadRequestError) as ei:
        es.indices.create(index="NotLowercase")
    harness.assert_es_error(ei.value, 400, "invalid_index_name_exception", reason_contains="lowercase")


def test_invalid_index_name_on_auto_create(http):
    r = http.put("/Bad_Name/_doc/1", json={"a": 1})
    harness.assert_es_error(r, 400, "invalid_index_name_exception")


def test_put_and_get_mapping(http, make_index):
    name = make_index({"mappings": {"properties": {"a": {"type": "keyword"}}}})
    r = http.put(f"/{name}/_mapping", json={"properties": {"b": {"type": "long"}, "c.d": {"type": "keyword"}}})
    assert r.status_code == 200, r.text
    assert r.json() == {"acknowledged": True}
    got = http.get(f"/{name}/_mapping").json()
    assert got == {
        name: {
            "mappings": {
                "properties": {
                    "a": {"type": "keyword"},
                    "b": {"type": "long"},
                    "c": {"properties": {"d": {"type": "keyword"}}},  # dotted names expand to objects
                }
            }
        }
    }


def test_put_mapping_client(es, make_index):
    name = make_index({"mappings": {"properties": {"a": {"type": "keyword"}}}})
    es.indices.put_mapping(index=name, properties={"b": {"type": "date"}})
    props = es.indices.get_mapping(index=name)[name]["mappings"]["properties"]
    assert props == {"a": {"type": "keyword"}, "b": {"type": "date"}}


def test_put_mapping_type_change_rejected(http, make_index):
    name = make_index({"mappings": {"properties": {"a": {"type": "keyword"}}}})
    r = http.put(f"/{name}/_mapping", json={"properties": {"a": {"type": "long"}}})
    harness.assert_es_error(r, 400, "illegal_argument_exception", reason_contains="[a]")


def test_unknown_field_type_rejected(http, index):
    r = http.put(f"/{index}", json={"mappings": {"properties": {"a": {"type": "no_such_type"}}}})
    harness.assert_es_error(r, 400, "mapper_parsing_exception", reason_contains="no_such_type")
    assert http.head(f"/{index}").status_code == 404


def test_get_mapping_of_several_indices(http, make_index):
    a = make_index({"mappings": {"properties": {"a": {"type": "keyword"}}}}, "a")
    b = make_index({"mappings": {"properties": {"b": {"type": "long"}}}}, "b")
    got = http.get(f"/{a},{b}/_mapping").json()
    assert set(got) == {a, b}
    got = http.get("/_mapping").json()
    assert {a, b} <= set(got)
    prefix = a.rsplit("-", 2)[0]
    got = http.get(f"/{prefix}-*/_mapping").json()
    assert set(got) == {a, b}


def test_delete_several_and_wildcard(http, make_index):
    a = make_index(suffix="a")
    b = make_index(suffix="b")
    r = http.delete(f"/{a},{b}")
    assert r.status_code == 200, r.text
    assert http.head(f"/{a}").status_code == 404 and http.head(f"/{b}").status_code == 404
