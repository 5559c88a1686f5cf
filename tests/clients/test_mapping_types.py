"""Mapping types (text + multi-fields, keyword, numbers, boolean, date, object, geo_point) and dynamic mapping."""

import pytest

import harness

DOC_PARSE_ERRORS = {"document_parsing_exception", "mapper_parsing_exception"}
# ES >= 8.8 says document_parsing_exception; ES 8.0-8.7 and OpenSearch say mapper_parsing_exception.


def hits_ids(resp):
    return sorted(h["_id"] for h in resp.json()["hits"]["hits"])


def search(http, index, query, **extra):
    r = http.post(f"/{index}/_search", json={"query": query, "size": 100, **extra})
    assert r.status_code == 200, r.text
    return r


# --------------------------------------------------------------------------- text, keyword


def test_text_with_keyword_multifield(http, make_index, load):
    name = make_index({"mappings": {"properties": {
        "title": {"type": "text", "fields": {"keyword": {"type": "keyword"}, "raw": {"type": "keyword"}}}}}})
    load(name, {"1": {"title": "The Quick Brown Fox"}, "2": {"title": "quick fox"}, "3": {"title": "slow dog"}})
    assert hits_ids(search(http, name, {"match": {"title": "QUICK"}})) == ["1", "2"]
    assert hits_ids(search(http, name, {"term": {"title": "quick"}})) == ["1", "2"]  # indexed lowercased
    assert hits_ids(search(http, name, {"term": {"title": "Quick"}})) == []
    assert hits_ids(search(http, name, {"term": {"title.keyword": "quick fox"}})) == ["2"]
    assert hits_ids(search(http, name, {"term": {"title.raw": "The Quick Brown Fox"}})) == ["1"]
    assert hits_ids(search(http, name, {"term": {"title.keyword": "the quick brown fox"}})) == []


def test_keyword_exact_and_arrays(http, make_index, load):
    name = make_index({"mappings": {"properties": {"tags": {"type": "keyword"}}}})
    load(name, {"1": {"tags": ["Red", "blue"]}, "2": {"tags": "red"}, "3": {"tags": []}})
    assert hits_ids(search(http, name, {"term": {"tags": "red"}})) == ["2"]
    assert hits_ids(search(http, name, {"term": {"tags": "Red"}})) == ["1"]
    assert hits_ids(search(http, name, {"match": {"tags": "blue"}})) == ["1"]
    r = http.get(f"/{name}/_doc/1")
    assert r.json()["_source"] == {"tags": ["Red", "blue"]}  # _source is returned as sent


def test_keyword_ignore_above(http, make_index, load):
    name = make_index({"mappings": {"properties": {"k": {"type": "keyword", "ignore_above": 5}}}})
    load(name, {"1": {"k": "short"}, "2": {"k": "too long"}})
    assert hits_ids(search(http, name, {"term": {"k": "short"}})) == ["1"]
    assert hits_ids(search(http, name, {"term": {"k": "too long"}})) == []
    assert hits_ids(search(http, name, {"exists": {"field": "k"}})) == ["1"]
    assert http.get(f"/{name}/_doc/2").json()["_source"] == {"k": "too long"}


# --------------------------------------------------------------------------- numbers


def test_integer_types(http, make_index, load):
    props = {t: {"type": t} for t in ("long", "integer", "short", "byte")}
    name = make_index({"mappings": {"properties": props}})
    load(name, {
        "1": {"long": 9007199254740993, "integer": 2147483647, "short": 32767, "byte": 127},
        "2": {"long": -5, "integer": -2147483648, "short": -32768, "byte": -128},
        "3": {"long": "42", "integer": "7", "short": 1, "byte": 0},  # numeric strings are coerced
    })
    assert hits_ids(search(http, name, {"term": {"long": 9007199254740993}})) == ["1"]
    assert hits_ids(search(http, name, {"term": {"long": 42}})) == ["3"]
    assert hits_ids(search(http, name, {"range": {"integer": {"gte": 0}}})) == ["1", "3"]
    assert hits_ids(search(http, name, {"range": {"short": {"lt": 0}}})) == ["2"]
    assert hits_ids(search(http, name, {"range": {"byte": {"gte": -128, "lte": 0}}})) == ["2", "3"]
    # long values sort exactly (no double rounding of 2^53 + 1)
    r = http.post(f"/{name}/_search", json={"sort": [{"long": "desc"}], "size": 1})
    assert r.json()["hits"]["hits"][0]["sort"] == [9007199254740993]
    assert http.get(f"/{name}/_doc/3").json()["_source"]["long"] == "42"  # _source untouched


@pytest.mark.parametrize("ftype,value", [("byte", 128), ("short", 40000), ("integer", 2**31), ("long", 2**63),
                                         ("integer", "abc"), ("long", True)])
def test_out_of_range_or_malformed_number_rejected(http, make_index, ftype, value):
    name = make_index({"mappings": {"properties": {"f": {"type": ftype}}}})
    r = http.put(f"/{name}/_doc/1", json={"f": value})
    harness.assert_es_error(r, 400, DOC_PARSE_ERRORS)
    assert http.get(f"/{name}/_doc/1").status_code == 404


def test_floating_types(http, make_index, load):
    name = make_index({"mappings": {"properties": {"d": {"type": "double"}, "f": {"type": "float"}}}})
    load(name, {"1": {"d": 1.5, "f": 0.25}, "2": {"d": -2.75, "f": 10}, "3": {"d": "3.25", "f": "1e3"}})
    assert hits_ids(search(http, name, {"range": {"d": {"gt": 1.5}}})) == ["3"]
    assert hits_ids(search(http, name, {"range": {"d": {"gte": 1.5}}})) == ["1", "3"]
    assert hits_ids(search(http, name, {"term": {"f": 0.25}})) == ["1"]
    assert hits_ids(search(http, name, {"range": {"f": {"gte": 5, "lte": 1000}}})) == ["2", "3"]
    r = http.post(f"/{name}/_search", json={"sort": [{"d": "asc"}]})
    assert [h["sort"][0] for h in r.json()["hits"]["hits"]] == [-2.75, 1.5, 3.25]


def test_boolean(http, make_index, load):
    name = make_index({"mappings": {"properties": {"b": {"type": "boolean"}}}})
    load(name, {"1": {"b": True}, "2": {"b": False}, "3": {"b": "true"}, "4": {"b": "false"}, "5": {"b": None}})
    assert hits_ids(search(http, name, {"term": {"b": True}})) == ["1", "3"]
    assert hits_ids(search(http, name, {"term": {"b": "false"}})) == ["2", "4"]
    assert hits_ids(search(http, name, {"exists": {"field": "b"}})) == ["1", "2", "3", "4"]
    r = http.put(f"/{name}/_doc/6", json={"b": "yes"})
    harness.assert_es_error(r, 400, DOC_PARSE_ERRORS)


# --------------------------------------------------------------------------- dates


def test_date_default_format(http, make_index, load):
    name = make_index({"mappings": {"properties": {"d": {"type": "date"}}}})
    load(name, {
        "1": {"d": "2024-01-15"},
        "2": {"d": "2024-01-15T10:30:00Z"},
        "3": {"d": "2024-01-15T10:30:00.123+02:00"},
        "4": {"d": 1705314600000},  # epoch_millis = 2024-01-15T10:30:00Z
        "5": {"d": "2023-12-31T23:59:59Z"},
    })
    r = http.post(f"/{name}/_search", json={"sort": [{"d": "asc"}], "size": 10})
    assert [(h["_id"], h["sort"][0]) for h in r.json()["hits"]["hits"]] == [
        ("5", 1704067199000), ("1", 1705276800000), ("3", 1705307400123), ("2", 1705314600000),
        ("4", 1705314600000)]
    assert hits_ids(search(http, name, {"range": {"d": {"gte": "2024-01-01", "lt": "2024-02-01"}}})) == [
        "1", "2", "3", "4"]
    assert hits_ids(search(http, name, {"term": {"d": "2024-01-15T10:30:00Z"}})) == ["2", "4"]
    assert http.get(f"/{name}/_doc/4").json()["_source"] == {"d": 1705314600000}


def test_date_explicit_formats(http, make_index, load):
    name = make_index({"mappings": {"properties": {
        "iso": {"type": "date", "format": "strict_date_optional_time"},
        "ms": {"type": "date", "format": "epoch_millis"},
        "either": {"type": "date", "format": "strict_date_optional_time||epoch_millis"}}}})
    load(name, {"1": {"iso": "2020-02-29T12:00:00Z", "ms": 1582977600000, "either": "2020-02-29"},
                "2": {"iso": "2021-03-01", "ms": "1614556800000", "either": 1614556800000}})
    assert hits_ids(search(http, name, {"range": {"ms": {"gte": 1600000000000}}})) == ["2"]
    assert hits_ids(search(http, name, {"range": {"iso": {"lt": "2021-01-01"}}})) == ["1"]
    assert hits_ids(search(http, name, {"range": {"either": {"gte": "2021-03-01", "lte": "2021-03-01"}}})) == ["2"]
    r = http.put(f"/{name}/_doc/3", json={"iso": "29/02/2020"})
    harness.assert_es_error(r, 400, DOC_PARSE_ERRORS)
    r = http.put(f"/{name}/_doc/3", json={"ms": "2020-02-29"})
    harness.assert_es_error(r, 400, DOC_PARSE_ERRORS)


# --------------------------------------------------------------------------- object, dotted paths


def test_object_and_dotted_paths(http, make_index, load):
    name = make_index({"mappings": {"properties": {
        "user": {"properties": {"name": {"type": "keyword"}, "age": {"type": "integer"},
                                "address": {"properties": {"city": {"type": "keyword"}}}}}}}})
    load(name, {
        "1": {"user": {"name": "kim", "age": 30, "address": {"city": "Oslo"}}},
        "2": {"user.name": "lee", "user.address.city": "Rome"},
        "3": {"user": {"name": "ana", "address.city": "Oslo"}},
    })
    assert hits_ids(search(http, name, {"term": {"user.name": "lee"}})) == ["2"]
    assert hits_ids(search(http, name, {"term": {"user.address.city": "Oslo"}})) == ["1", "3"]
    assert hits_ids(search(http, name, {"exists": {"field": "user.age"}})) == ["1"]
    assert hits_ids(search(http, name, {"exists": {"field": "user"}})) == ["1", "2", "3"]
    # _source keeps the shape it was sent in
    assert http.get(f"/{name}/_doc/2").json()["_source"] == {"user.name": "lee", "user.address.city": "Rome"}
    r = http.post(f"/{name}/_search", json={"query": {"ids": {"values": ["1"]}}, "_source": ["user.address.*"]})
    assert r.json()["hits"]["hits"][0]["_source"] == {"user": {"address": {"city": "Oslo"}}}


def test_dynamic_object_mapping(http, make_index, load):
    name = make_index()
    load(name, {"1": {"a": {"b": {"c": "x"}}, "p.q": 5}})
    props = http.get(f"/{name}/_mapping").json()[name]["mappings"]["properties"]
    assert props["a"] == {"properties": {"b": {"properties": {"c": {
        "type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}}}}}
    assert props["p"] == {"properties": {"q": {"type": "long"}}}


# --------------------------------------------------------------------------- geo_point


def test_geo_point_stored_and_returned(http, make_index, load):
    name = make_index({"mappings": {"properties": {"loc": {"type": "geo_point"}, "n": {"type": "keyword"}}}})
    sources = {
        "1": {"loc": {"lat": 40.64, "lon": -73.78}, "n": "object"},
        "2": {"loc": "40.77,-73.87", "n": "string"},
        "3": {"loc": [-87.90, 41.97], "n": "array"},
        "4": {"loc": "POINT (-118.41 33.94)", "n": "wkt"},
        "5": {"loc": "dr5regw3p", "n": "geohash"},
    }
    load(name, sources)
    props = http.get(f"/{name}/_mapping").json()[name]["mappings"]["properties"]
    assert props["loc"] == {"type": "geo_point"}
    for _id, src in sources.items():
        assert http.get(f"/{name}/_doc/{_id}").json()["_source"] == src
    assert hits_ids(search(http, name, {"exists": {"field": "loc"}})) == ["1", "2", "3", "4", "5"]
    r = http.post(f"/{name}/_search", json={"query": {"term": {"n": "array"}}})
    assert r.json()["hits"]["hits"][0]["_source"]["loc"] == [-87.90, 41.97]


def test_geo_point_invalid_rejected(http, make_index):
    name = make_index({"mappings": {"properties": {"loc": {"type": "geo_point"}}}})
    r = http.put(f"/{name}/_doc/1", json={"loc": {"lat": 123.0, "lon": 0}})
    harness.assert_es_error(r, 400, DOC_PARSE_ERRORS)


# --------------------------------------------------------------------------- dynamic mapping


def test_dynamic_mapping_rules(http, index):
    r = http.put(f"/{index}/_doc/1", params={"refresh": "true"}, json={
        "s": "hello world",
        "i": 42,
        "neg": -7,
        "f": 1.5,
        "b": True,
        "d1": "2024-01-15",
        "d2": "2024-01-15T10:30:00Z",
        "d3": "2024/01/15 10:30:00",
        "d4": "2024/01/15",
        "notdate": "2024-13-45x",
        "numstr": "42",  # numeric_detection is off by default
        "arr": [1, 2, 3],
        "nul": None,
        "o": {"x": "y"},
    })
    assert r.status_code == 201, r.text
    props = http.get(f"/{index}/_mapping").json()[index]["mappings"]["properties"]
    text_kw = {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}
    assert props["s"] == text_kw
    assert props["notdate"] == text_kw
    assert props["numstr"] == text_kw
    assert props["i"] == {"type": "long"}
    assert props["neg"] == {"type": "long"}
    assert props["arr"] == {"type": "long"}
    assert props["f"] == {"type": "float"}
    assert props["b"] == {"type": "boolean"}
    assert props["d1"] == {"type": "date"}  # strict_date_optional_time: the default format, not shown
    assert props["d2"] == {"type": "date"}
    # the second default dynamic_date_format shows up in the mapping
    for f in ("d3", "d4"):
        assert props[f]["type"] == "date"
        assert props[f]["format"] == "yyyy/MM/dd HH:mm:ss||yyyy/MM/dd||epoch_millis"
    assert props["o"] == {"properties": {"x": text_kw}}
    assert "nul" not in props  # null adds no mapping

    # the new fields are searchable
    assert hits_ids(search(http, index, {"match": {"s": "world"}})) == ["1"]
    assert hits_ids(search(http, index, {"term": {"s.keyword": "hello world"}})) == ["1"]
    assert hits_ids(search(http, index, {"range": {"d2": {"gte": "2024-01-15T10:00:00Z"}}})) == ["1"]
    assert hits_ids(search(http, index, {"term": {"arr": 2}})) == ["1"]


def test_dynamic_keyword_ignore_above_256(http, index):
    long_text = " ".join(["word"] * 60)  # 299 chars
    r = http.put(f"/{index}/_doc/1", params={"refresh": "true"}, json={"s": long_text})
    assert r.status_code == 201
    assert hits_ids(search(http, index, {"match": {"s": "word"}})) == ["1"]
    assert hits_ids(search(http, index, {"term": {"s.keyword": long_text}})) == []
    assert hits_ids(search(http, index, {"exists": {"field": "s.keyword"}})) == []


def test_dynamic_mapping_conflict_in_later_doc(http, index):
    assert http.put(f"/{index}/_doc/1", json={"n": 5}).status_code == 201
    r = http.put(f"/{index}/_doc/2", json={"n": "not a number"})
    harness.assert_es_error(r, 400, DOC_PARSE_ERRORS)


def test_dynamic_false(http, make_index):
    name = make_index({"mappings": {"dynamic": False, "properties": {"a": {"type": "keyword"}}}})
    r = http.put(f"/{name}/_doc/1", params={"refresh": "true"}, json={"a": "x", "extra": "kept in source"})
    assert r.status_code == 201, r.text
    mapping = http.get(f"/{name}/_mapping").json()[name]["mappings"]
    assert str(mapping["dynamic"]).lower() == "false"
    assert set(mapping["properties"]) == {"a"}
    assert http.get(f"/{name}/_doc/1").json()["_source"] == {"a": "x", "extra": "kept in source"}
    assert hits_ids(search(http, name, {"match": {"extra": "kept"}})) == []
    assert hits_ids(search(http, name, {"term": {"a": "x"}})) == ["1"]


def test_dynamic_strict(http, make_index):
    name = make_index({"mappings": {"dynamic": "strict", "properties": {"a": {"type": "keyword"},
                                                                         "o": {"properties": {"b": {"type": "long"}}}}}})
    r = http.put(f"/{name}/_doc/1", json={"a": "x", "extra": 1})
    harness.assert_es_error(r, 400, "strict_dynamic_mapping_exception", reason_contains="[extra]")
    r = http.put(f"/{name}/_doc/1", json={"o": {"b": 1, "c": 2}})
    harness.assert_es_error(r, 400, "strict_dynamic_mapping_exception", reason_contains="[c]")
    assert http.get(f"/{name}/_doc/1").status_code == 404
    r = http.put(f"/{name}/_doc/1", json={"a": "x", "o": {"b": 1}})
    assert r.status_code == 201
    assert http.get(f"/{name}/_mapping").json()[name]["mappings"]["dynamic"] == "strict"


def test_dynamic_strict_in_bulk_fails_only_that_item(http, make_index):
    name = make_index({"mappings": {"dynamic": "strict", "properties": {"a": {"type": "keyword"}}}})
    r = http.bulk([{"index": {"_index": name, "_id": "1"}}, {"a": "ok"},
                   {"index": {"_index": name, "_id": "2"}}, {"b": "not allowed"}])
    body = r.json()
    assert r.status_code == 200 and body["errors"] is True
    assert body["items"][0]["index"]["status"] == 201
    assert body["items"][1]["index"]["status"] == 400
    assert body["items"][1]["index"]["error"]["type"] == "strict_dynamic_mapping_exception"


def test_dynamic_mapping_with_client(es, index):
    es.index(index=index, id="1", document={"title": "hello", "views": 3, "score": 0.5, "when": "2024-05-01"},
             refresh=True)
    props = es.indices.get_mapping(index=index)[index]["mappings"]["properties"]
    assert props["title"]["type"] == "text" and props["title"]["fields"]["keyword"]["ignore_above"] == 256
    assert props["views"] == {"type": "long"}
    assert props["score"] == {"type": "float"}
    assert props["when"]["type"] == "date"
