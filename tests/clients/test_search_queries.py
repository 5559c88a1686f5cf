"""Query DSL, first slice: match_all, match_none, match, match_phrase, multi_match, term, terms, range (numbers,
dates, date math), exists, prefix, ids, bool, constant_score, boost; URI q=."""

import datetime as dt

import pytest

MAPPING = {
    "properties": {
        "title": {"type": "text", "fields": {"keyword": {"type": "keyword"}}},
        "body": {"type": "text"},
        "tag": {"type": "keyword"},
        "n": {"type": "long"},
        "price": {"type": "double"},
        "day": {"type": "date"},
        "active": {"type": "boolean"},
    }
}

DOCS = {
    "1": {"title": "Quick brown fox", "body": "The fox jumps over the lazy dog", "tag": ["animal", "fast"],
          "n": 1, "price": 9.5, "day": "2024-01-01", "active": True},
    "2": {"title": "Lazy dog", "body": "A dog sleeps all day long", "tag": ["animal"], "n": 2, "price": 20.0,
          "day": "2024-02-15", "active": False},
    "3": {"title": "Quick start guide", "body": "Read this guide quickly to start fast", "tag": ["doc", "fast"],
          "n": 3, "price": 0.0, "day": "2024-03-31", "active": True},
    "4": {"title": "Brown bread recipe", "body": "Bake the brown bread for one hour", "tag": ["food"], "n": 4,
          "price": 4.25, "day": "2023-12-31"},
    "5": {"title": "fox and dog", "body": "quick quick quick", "n": 5, "price": None},
    "6": {"body": "no title here, only a body about a fox", "tag": [], "n": 6, "price": 100.0,
          "day": "2024-06-01T12:00:00Z"},
}


@pytest.fixture(scope="module")
def corpus(http_module, request):
    import uuid

    name = f"t-search-queries-{uuid.uuid4().hex[:8]}"
    r = http_module.put(f"/{name}", json={"settings": {"number_of_shards": 1, "number_of_replicas": 0},
                                          "mappings": MAPPING})
    assert r.status_code == 200, r.text
    from conftest import load_docs

    load_docs(http_module, name, DOCS)
    yield name
    http_module.delete(f"/{name}")


@pytest.fixture(scope="module")
def http_module(base_url):
    from conftest import Http

    return Http(base_url)


def ids(http, index, query, **extra):
    r = http.post(f"/{index}/_search", json={"query": query, "size": 100, **extra})
    assert r.status_code == 200, f"{query}: {r.status_code} {r.text}"
    return sorted(h["_id"] for h in r.json()["hits"]["hits"])


def hits(http, index, query, **extra):
    r = http.post(f"/{index}/_search", json={"query": query, "size": 100, **extra})
    assert r.status_code == 200, f"{query}: {r.status_code} {r.text}"
    return r.json()["hits"]


def test_match_all_and_none(http, corpus):
    h = hits(http, corpus, {"match_all": {}})
    assert h["total"] == {"value": 6, "relation": "eq"}
    assert all(x["_score"] == 1.0 for x in h["hits"]) and h["max_score"] == 1.0
    h = hits(http, corpus, {"match_all": {"boost": 2.5}})
    assert all(x["_score"] == 2.5 for x in h["hits"])
    h = hits(http, corpus, {"match_none": {}})
    assert h["total"] == {"value": 0, "relation": "eq"} and h["hits"] == [] and h["max_score"] is None
    r = http.post(f"/{corpus}/_search", json={})
    assert r.json()["hits"]["total"]["value"] == 6  # no query = match_all
    r = http.get(f"/{corpus}/_search")
    assert r.json()["hits"]["total"]["value"] == 6


def test_match(http, corpus):
    assert ids(http, corpus, {"match": {"title": "quick"}}) == ["1", "3"]
    assert ids(http, corpus, {"match": {"title": "QUICK Fox"}}) == ["1", "3", "5"]  # OR by default
    assert ids(http, corpus, {"match": {"title": {"query": "quick fox", "operator": "and"}}}) == ["1"]
    assert ids(http, corpus, {"match": {"title": {"query": "quick fox", "operator": "AND"}}}) == ["1"]
    assert ids(http, corpus, {"match": {"title": {"query": "quick brown fox", "minimum_should_match": 2}}}) == [
        "1"]
    assert ids(http, corpus, {"match": {"title": {"query": "quick brown fox dog",
                                                  "minimum_should_match": "50%"}}}) == ["1", "5"]
    assert ids(http, corpus, {"match": {"title": {"query": "quick brown fox", "minimum_should_match": "-1"}}}) == [
        "1"]
    assert ids(http, corpus, {"match": {"title": "zebra"}}) == []
    assert ids(http, corpus, {"match": {"nosuchfield": "fox"}}) == []
    assert ids(http, corpus, {"match": {"tag": "fast"}}) == ["1", "3"]  # keyword: the whole value
    assert ids(http, corpus, {"match": {"n": 3}}) == ["3"]
    assert ids(http, corpus, {"match": {"title": ""}}) == []


def test_match_phrase(http, corpus):
    assert ids(http, corpus, {"match_phrase": {"body": "lazy dog"}}) == ["1"]
    assert ids(http, corpus, {"match_phrase": {"body": "dog lazy"}}) == []
    assert ids(http, corpus, {"match_phrase": {"body": {"query": "brown bread"}}}) == ["4"]
    assert ids(http, corpus, {"match_phrase": {"body": {"query": "fox lazy", "slop": 3}}}) == ["1"]
    assert ids(http, corpus, {"match_phrase": {"body": "quick quick"}}) == ["5"]


def test_multi_match_best_fields(http, corpus):
    assert ids(http, corpus, {"multi_match": {"query": "fox", "fields": ["title", "body"]}}) == ["1", "5", "6"]
    assert ids(http, corpus, {"multi_match": {"query": "bread guide", "fields": ["title"],
                                              "type": "best_fields"}}) == ["3", "4"]
    # best_fields applies the operator per field: both terms in one field
    assert ids(http, corpus, {"multi_match": {"query": "lazy dog", "fields": ["title", "body"],
                                              "operator": "and"}}) == ["1", "2"]
    assert ids(http, corpus, {"multi_match": {"query": "quick dog", "fields": ["title", "body"],
                                              "operator": "and"}}) == []
    # best_fields with no tie_breaker scores the best field: a max over per-field match scores
    h = hits(http, corpus, {"multi_match": {"query": "fox", "fields": ["title^3", "body"]}})
    per_doc = {x["_id"]: x["_score"] for x in h["hits"]}
    title = {x["_id"]: x["_score"] for x in hits(http, corpus, {"match": {"title": {"query": "fox",
                                                                                     "boost": 3}}})["hits"]}
    body = {x["_id"]: x["_score"] for x in hits(http, corpus, {"match": {"body": "fox"}})["hits"]}
    for _id, score in per_doc.items():
        assert score == pytest.approx(max(title.get(_id, 0), body.get(_id, 0)), rel=1e-5), _id


def test_term_and_terms(http, corpus):
    assert ids(http, corpus, {"term": {"tag": "fast"}}) == ["1", "3"]
    assert ids(http, corpus, {"term": {"tag": {"value": "food"}}}) == ["4"]
    assert ids(http, corpus, {"term": {"title.keyword": "Lazy dog"}}) == ["2"]
    assert ids(http, corpus, {"term": {"n": 4}}) == ["4"]
    assert ids(http, corpus, {"term": {"n": "4"}}) == ["4"]
    assert ids(http, corpus, {"term": {"active": True}}) == ["1", "3"]
    assert ids(http, corpus, {"term": {"price": 9.5}}) == ["1"]
    assert ids(http, corpus, {"term": {"day": "2024-02-15"}}) == ["2"]
    assert ids(http, corpus, {"terms": {"tag": ["food", "doc"]}}) == ["3", "4"]
    assert ids(http, corpus, {"terms": {"n": [1, 5, 99]}}) == ["1", "5"]
    assert ids(http, corpus, {"terms": {"tag": []}}) == []
    h = hits(http, corpus, {"term": {"tag": "food"}})
    assert h["hits"][0]["_score"] > 0


def test_range_numbers(http, corpus):
    assert ids(http, corpus, {"range": {"n": {"gte": 2, "lte": 4}}}) == ["2", "3", "4"]
    assert ids(http, corpus, {"range": {"n": {"gt": 2, "lt": 4}}}) == ["3"]
    assert ids(http, corpus, {"range": {"n": {"gt": 5}}}) == ["6"]
    assert ids(http, corpus, {"range": {"price": {"gte": 0, "lt": 10}}}) == ["1", "3", "4"]
    assert ids(http, corpus, {"range": {"price": {"gt": 4.25}}}) == ["1", "2", "6"]
    assert ids(http, corpus, {"range": {"n": {"gte": "5"}}}) == ["5", "6"]
    h = hits(http, corpus, {"range": {"n": {"gte": 1}}})
    assert all(x["_score"] == 1.0 for x in h["hits"])  # range is constant-score


def test_range_dates(http, corpus):
    assert ids(http, corpus, {"range": {"day": {"gte": "2024-01-01", "lt": "2024-03-01"}}}) == ["1", "2"]
    assert ids(http, corpus, {"range": {"day": {"lte": "2024-01-01"}}}) == ["1", "4"]
    assert ids(http, corpus, {"range": {"day": {"gt": "2024-03-31"}}}) == ["6"]  # gt rounds the day up
    assert ids(http, corpus, {"range": {"day": {"gte": "2024-06-01T12:00:00Z"}}}) == ["6"]
    assert ids(http, corpus, {"range": {"day": {"gte": "2024-01-01||+1M", "lte": "2024-03-31||-1d"}}}) == ["2"]
    assert ids(http, corpus, {"range": {"day": {"gte": 1704067200000, "lte": 1704067200000}}}) == ["1"]
    assert ids(http, corpus, {"range": {"day": {"gte": "01/02/2024", "format": "dd/MM/yyyy"}}}) == ["2", "3", "6"]


def test_range_date_math_now(http, make_index, load):
    name = make_index({"mappings": {"properties": {"at": {"type": "date"}}}})
    now = dt.datetime.now(dt.timezone.utc)

    def iso(d):
        return d.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    load(name, {
        "now": {"at": iso(now - dt.timedelta(minutes=5))},
        "hour": {"at": iso(now - dt.timedelta(hours=1))},
        "3days": {"at": iso(now - dt.timedelta(days=3))},
        "10days": {"at": iso(now - dt.timedelta(days=10))},
        "future": {"at": iso(now + dt.timedelta(days=2))},
    })
    assert ids(http, name, {"range": {"at": {"gte": "now-1d/d"}}}) == ["future", "hour", "now"]
    assert ids(http, name, {"range": {"at": {"gte": "now-1d/d", "lte": "now"}}}) == ["hour", "now"]
    assert ids(http, name, {"range": {"at": {"gte": "now-7d/d", "lt": "now-1d/d"}}}) == ["3days"]
    assert ids(http, name, {"range": {"at": {"lt": "now-1w"}}}) == ["10days"]
    assert ids(http, name, {"range": {"at": {"gt": "now+1d"}}}) == ["future"]
    assert ids(http, name, {"range": {"at": {"gte": "now-30m", "lte": "now+1h"}}}) == ["now"]
    assert ids(http, name, {"range": {"at": {"gte": "now-1M/M"}}}) != []


def test_exists(http, corpus):
    assert ids(http, corpus, {"exists": {"field": "title"}}) == ["1", "2", "3", "4", "5"]
    assert ids(http, corpus, {"exists": {"field": "tag"}}) == ["1", "2", "3", "4"]  # [] is not a value
    assert ids(http, corpus, {"exists": {"field": "price"}}) == ["1", "2", "3", "4", "6"]  # null is not a value
    assert ids(http, corpus, {"exists": {"field": "day"}}) == ["1", "2", "3", "4", "6"]
    assert ids(http, corpus, {"exists": {"field": "title.keyword"}}) == ["1", "2", "3", "4", "5"]
    assert ids(http, corpus, {"exists": {"field": "unknown_field"}}) == []


def test_prefix(http, corpus):
    assert ids(http, corpus, {"prefix": {"tag": "fa"}}) == ["1", "3"]
    assert ids(http, corpus, {"prefix": {"tag": {"value": "an"}}}) == ["1", "2"]
    assert ids(http, corpus, {"prefix": {"title": "qui"}}) == ["1", "3"]  # on the indexed (lowercased) terms
    assert ids(http, corpus, {"prefix": {"title.keyword": "Quick"}}) == ["1", "3"]
    assert ids(http, corpus, {"prefix": {"title.keyword": "quick"}}) == []
    h = hits(http, corpus, {"prefix": {"tag": "fa"}})
    assert all(x["_score"] == 1.0 for x in h["hits"])


def test_ids(http, corpus):
    assert ids(http, corpus, {"ids": {"values": ["1", "4", "nope"]}}) == ["1", "4"]
    assert ids(http, corpus, {"ids": {"values": []}}) == []


def test_bool(http, corpus):
    assert ids(http, corpus, {"bool": {"must": [{"match": {"title": "quick"}}],
                                       "filter": [{"term": {"tag": "fast"}}]}}) == ["1", "3"]
    assert ids(http, corpus, {"bool": {"must": {"match": {"body": "dog"}},
                                       "must_not": {"term": {"active": False}}}}) == ["1"]
    assert ids(http, corpus, {"bool": {"should": [{"term": {"tag": "food"}}, {"term": {"tag": "doc"}}]}}) == [
        "3", "4"]
    assert ids(http, corpus, {"bool": {"should": [{"term": {"tag": "fast"}}, {"term": {"tag": "animal"}},
                                                  {"term": {"active": True}}],
                                       "minimum_should_match": 2}}) == ["1", "3"]
    # with a must, should clauses are optional
    assert ids(http, corpus, {"bool": {"must": {"range": {"n": {"lte": 3}}},
                                       "should": {"term": {"tag": "nothing"}}}}) == ["1", "2", "3"]
    # with a filter and minimum_should_match 1 they are required again
    assert ids(http, corpus, {"bool": {"filter": {"range": {"n": {"lte": 3}}},
                                       "should": {"term": {"tag": "doc"}},
                                       "minimum_should_match": 1}}) == ["3"]
    assert ids(http, corpus, {"bool": {"must_not": [{"exists": {"field": "title"}}]}}) == ["6"]
    assert ids(http, corpus, {"bool": {}}) == ["1", "2", "3", "4", "5", "6"]
    # nested bools
    assert ids(http, corpus, {"bool": {"filter": [
        {"bool": {"should": [{"term": {"n": 1}}, {"term": {"n": 6}}]}},
        {"bool": {"must_not": {"term": {"n": 6}}}}]}}) == ["1"]


def test_bool_scores(http, corpus):
    # filter and must_not do not score: a filter-only bool scores 0
    h = hits(http, corpus, {"bool": {"filter": {"term": {"tag": "fast"}}}})
    assert [x["_score"] for x in h["hits"]] == [0.0, 0.0]
    # must scores add up
    a = {x["_id"]: x["_score"] for x in hits(http, corpus, {"match": {"title": "quick"}})["hits"]}
    b = {x["_id"]: x["_score"] for x in hits(http, corpus, {"match": {"body": "fast"}})["hits"]}
    both = hits(http, corpus, {"bool": {"must": [{"match": {"title": "quick"}}, {"match": {"body": "fast"}}]}})
    assert [x["_id"] for x in both["hits"]] == ["3"]
    assert both["hits"][0]["_score"] == pytest.approx(a["3"] + b["3"], rel=1e-5)
    filtered = hits(http, corpus, {"bool": {"must": {"match": {"title": "quick"}},
                                            "filter": {"term": {"tag": "fast"}}}})
    assert {x["_id"]: x["_score"] for x in filtered["hits"]} == pytest.approx(a, rel=1e-5)


def test_constant_score_and_boost(http, corpus):
    h = hits(http, corpus, {"constant_score": {"filter": {"match": {"title": "quick"}}}})
    assert sorted(x["_id"] for x in h["hits"]) == ["1", "3"]
    assert all(x["_score"] == 1.0 for x in h["hits"])
    h = hits(http, corpus, {"constant_score": {"filter": {"term": {"tag": "fast"}}, "boost": 4.5}})
    assert all(x["_score"] == 4.5 for x in h["hits"])

    plain = hits(http, corpus, {"term": {"tag": "food"}})["hits"][0]["_score"]
    boosted = hits(http, corpus, {"term": {"tag": {"value": "food", "boost": 3}}})["hits"][0]["_score"]
    assert boosted == pytest.approx(3 * plain, rel=1e-5)
    plain = {x["_id"]: x["_score"] for x in hits(http, corpus, {"match": {"title": "quick"}})["hits"]}
    boosted = {x["_id"]: x["_score"] for x in
               hits(http, corpus, {"match": {"title": {"query": "quick", "boost": 2}}})["hits"]}
    assert boosted == pytest.approx({k: 2 * v for k, v in plain.items()}, rel=1e-5)
    h = hits(http, corpus, {"bool": {"filter": {"term": {"tag": "food"}}, "boost": 7}})
    assert h["hits"][0]["_score"] == 0.0
    h = hits(http, corpus, {"bool": {"should": [{"constant_score": {"filter": {"term": {"tag": "food"}},
                                                                    "boost": 2}}],
                                     "boost": 3}})
    assert h["hits"][0]["_score"] == pytest.approx(6.0)


def test_uri_q(http, corpus):
    r = http.get(f"/{corpus}/_search", params={"q": "tag:fast"})
    assert r.status_code == 200, r.text
    assert sorted(h["_id"] for h in r.json()["hits"]["hits"]) == ["1", "3"]
    r = http.get(f"/{corpus}/_search", params={"q": "title:quick"})
    assert sorted(h["_id"] for h in r.json()["hits"]["hits"]) == ["1", "3"]
    r = http.get(f"/{corpus}/_search", params={"q": "n:4"})
    assert [h["_id"] for h in r.json()["hits"]["hits"]] == ["4"]
    r = http.get(f"/{corpus}/_count", params={"q": "tag:animal"})
    assert r.json()["count"] == 2
    r = http.post(f"/{corpus}/_search", params={"q": "tag:food", "size": "1"})
    assert [h["_id"] for h in r.json()["hits"]["hits"]] == ["4"]


def test_queries_with_elasticsearch_client(es, corpus):
    resp = es.search(index=corpus, query={"bool": {"must": {"match": {"title": "quick"}},
                                                   "filter": [{"range": {"n": {"gte": 2}}}]}})
    assert [h["_id"] for h in resp["hits"]["hits"]] == ["3"]
    resp = es.search(index=corpus, q="tag:animal", size=1, sort="n:desc")
    assert [h["_id"] for h in resp["hits"]["hits"]] == ["2"]
    assert es.count(index=corpus, query={"terms": {"tag": ["food", "animal"]}})["count"] == 3


def test_queries_with_opensearch_py(osc, corpus):
    resp = osc.search(index=corpus, body={"query": {"multi_match": {"query": "fox", "fields": ["title", "body"]}}})
    assert sorted(h["_id"] for h in resp["hits"]["hits"]) == ["1", "5", "6"]
    assert osc.count(index=corpus, body={"query": {"exists": {"field": "day"}}})["count"] == 5
