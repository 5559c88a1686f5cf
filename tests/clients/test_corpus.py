"""The full debian-bookworm corpus (64,537 packages) through helpers.bulk, then counts and known queries checked
against numbers computed in Python from the file itself.

Marked `corpus`: tests/clients/run.sh runs it once (in the es9 venv). Run alone with `-m corpus`.
Exact checks use keyword/numeric/boolean fields. For text fields, tokens were chosen whose every occurrence
in the data is cleanly delimited (space, punctuation), so "lowercase + split" equals the standard analyzer for
them; the test re-checks that property on the file and otherwise asserts only bounds.
"""

import json
import lzma
import random
import re

import pytest

import harness

pytestmark = pytest.mark.corpus

CORPUS = harness.shared_data() / "debian-bookworm.ndjson.xz"
MAPPING = harness.shared_data() / "mappings" / "debian.json"
EXPECTED_DOCS = 64_537

# a token occurrence that the standard tokenizer certainly splits out on its own
_BEFORE = r"(?:^|[\s(\[{\"/,;:!?-])"
_AFTER = r"(?:$|[\s)\]}\"/,;:!?-]|\.(?:\s|$))"


@pytest.fixture(scope="module")
def docs():
    if not CORPUS.exists():
        pytest.fail(f"corpus not found: {CORPUS} (shared/ must sit beside the repo)")
    with lzma.open(CORPUS, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def loaded(request, docs, base_url, speaks_elastic):
    """Bulk-load the corpus once for this module; yields (client kind, client, index name)."""
    import uuid

    name = f"t-corpus-debian-{uuid.uuid4().hex[:8]}"
    body = json.loads(MAPPING.read_text())

    def actions():
        for d in docs:
            src = dict(d)
            _id = src.pop("_id")
            yield {"_index": name, "_id": _id, "_source": src}

    if speaks_elastic:
        from elasticsearch import Elasticsearch, helpers

        client = Elasticsearch(base_url, request_timeout=300, max_retries=0)
        client.indices.create(index=name, settings=body["settings"], mappings=body["mappings"])
        ok, errors = helpers.bulk(client, actions(), chunk_size=500, max_retries=0)
    else:  # a real OpenSearch node, to check the expectations themselves
        from opensearchpy import OpenSearch, helpers

        client = OpenSearch(hosts=[base_url], timeout=300, max_retries=0)
        client.indices.create(index=name, body=body)
        ok, errors = helpers.bulk(client, actions(), chunk_size=500)
    assert ok == EXPECTED_DOCS and not errors
    client.indices.refresh(index=name)
    yield client, name
    client.indices.delete(index=name)
    client.close()


def _search(http, index, body):
    r = http.post(f"/{index}/_search", json=body)
    assert r.status_code == 200, f"{body}: {r.status_code} {r.text[:500]}"
    return r.json()


def _count(http, index, query):
    r = http.post(f"/{index}/_count", json={"query": query})
    assert r.status_code == 200, f"{query}: {r.status_code} {r.text[:500]}"
    return r.json()["count"]


def _has_token(text, token):
    return bool(text) and re.search(_BEFORE + re.escape(token) + _AFTER, text.lower()) is not None


def _token_is_clean(docs, field, token):
    """Every doc that contains `token` as a substring contains it as a standalone token."""
    return all(_has_token(d[field], token) for d in docs if d[field] and token in d[field].lower())


def test_count(http, loaded, docs):
    _, name = loaded
    assert len(docs) == EXPECTED_DOCS
    assert http.get(f"/{name}/_count").json()["count"] == EXPECTED_DOCS
    body = _search(http, name, {"size": 0, "track_total_hits": True})
    assert body["hits"]["total"] == {"value": EXPECTED_DOCS, "relation": "eq"}
    body = _search(http, name, {"size": 0})
    assert body["hits"]["total"] == {"value": 10000, "relation": "gte"}
    r = http.get(f"/_cat/count/{name}", params={"format": "json"})
    assert r.json()[0]["count"] == str(EXPECTED_DOCS)
    rows = http.get(f"/_cat/indices/{name}", params={"format": "json"}).json()
    assert rows[0]["docs.count"] == str(EXPECTED_DOCS)


def test_keyword_and_numeric_queries(http, loaded, docs):
    _, name = loaded
    cases = [
        ({"term": {"section": "games"}}, lambda d: d["section"] == "games"),
        ({"terms": {"section": ["python", "perl"]}}, lambda d: d["section"] in ("python", "perl")),
        ({"term": {"essential": True}}, lambda d: d["essential"] is True),
        ({"term": {"tags": "role::program"}}, lambda d: "role::program" in d["tags"]),
        ({"term": {"depends": "libc6"}}, lambda d: "libc6" in d["depends"]),
        ({"term": {"priority": "required"}}, lambda d: d["priority"] == "required"),
        ({"range": {"installed_size_kb": {"gte": 10000, "lt": 50000}}},
         lambda d: d["installed_size_kb"] is not None and 10000 <= d["installed_size_kb"] < 50000),
        ({"range": {"size_bytes": {"gt": 100_000_000}}},
         lambda d: d["size_bytes"] is not None and d["size_bytes"] > 100_000_000),
        ({"range": {"dependency_count": {"gte": 20}}}, lambda d: (d["dependency_count"] or 0) >= 20),
        ({"range": {"release_date": {"gte": "2026-07-11", "lt": "2026-07-12"}}}, lambda d: True),
        ({"exists": {"field": "homepage"}}, lambda d: d["homepage"] is not None),
        ({"exists": {"field": "installed_size_kb"}}, lambda d: d["installed_size_kb"] is not None),
        ({"prefix": {"package": "python3-"}}, lambda d: d["package"].startswith("python3-")),
        ({"bool": {"filter": [{"term": {"component": "main"}}, {"range": {"installed_size_kb": {"gte": 1000}}}],
                   "must_not": [{"term": {"architecture": "all"}}]}},
         lambda d: d["component"] == "main" and (d["installed_size_kb"] or -1) >= 1000
         and d["architecture"] != "all"),
        ({"bool": {"should": [{"term": {"section": "libs"}}, {"term": {"section": "libdevel"}}],
                   "filter": {"term": {"architecture": "amd64"}}, "minimum_should_match": 1}},
         lambda d: d["section"] in ("libs", "libdevel") and d["architecture"] == "amd64"),
        ({"bool": {"should": [{"term": {"section": "games"}}, {"term": {"component": "contrib"}},
                              {"range": {"dependency_count": {"gte": 10}}}], "minimum_should_match": 2}},
         lambda d: (d["section"] == "games") + (d["component"] == "contrib")
         + ((d["dependency_count"] or 0) >= 10) >= 2),
    ]
    for query, pred in cases:
        expected = sum(1 for d in docs if pred(d))
        assert _count(http, name, query) == expected, query
        body = _search(http, name, {"query": query, "size": 0, "track_total_hits": True})
        assert body["hits"]["total"]["value"] == expected, query


def test_uri_query(http, loaded, docs):
    _, name = loaded
    expected = sum(1 for d in docs if d["section"] == "games")
    r = http.get(f"/{name}/_count", params={"q": "section:games"})
    assert r.json()["count"] == expected
    r = http.get(f"/{name}/_search", params={"q": "section:games", "track_total_hits": "true", "size": "3"})
    assert r.json()["hits"]["total"]["value"] == expected
    assert all(h["_source"]["section"] == "games" for h in r.json()["hits"]["hits"])


def test_match_on_text(http, loaded, docs):
    _, name = loaded
    for field, token in [("description", "transitional"), ("description", "bluetooth"),
                         ("description", "bioinformatics"), ("summary", "dummy"), ("summary", "symbols")]:
        expected = sum(1 for d in docs if _has_token(d[field], token))
        got = _count(http, name, {"match": {field: token}})
        if _token_is_clean(docs, field, token):
            assert got == expected, (field, token)
        else:  # the data changed: only bounds hold
            upper = sum(1 for d in docs if d[field] and token in d[field].lower())
            assert expected <= got <= upper, (field, token)

    # OR and AND of two clean tokens
    a = {d["_id"] for d in docs if _has_token(d["summary"], "transitional")}
    b = {d["_id"] for d in docs if _has_token(d["summary"], "dummy")}
    assert _token_is_clean(docs, "summary", "transitional") and _token_is_clean(docs, "summary", "dummy")
    assert _count(http, name, {"match": {"summary": "Transitional DUMMY"}}) == len(a | b)
    assert _count(http, name, {"match": {"summary": {"query": "transitional dummy", "operator": "and"}}}) == len(
        a & b)
    # phrase: at most the AND count, at least the summaries with the words literally side by side
    phrase = _count(http, name, {"match_phrase": {"summary": "transitional dummy"}})
    literal = sum(1 for d in docs if re.search(r"(?:^|\s)transitional dummy(?:\s|$|[.,])", d["summary"].lower()))
    assert 0 < literal <= phrase <= len(a & b)

    # match combined with exact filters
    expected = sum(1 for d in docs if _has_token(d["description"], "transitional") and d["section"] == "oldlibs")
    got = _count(http, name, {"bool": {"must": {"match": {"description": "transitional"}},
                                       "filter": {"term": {"section": "oldlibs"}}}})
    assert got == expected

    # multi_match best_fields over summary and description: docs with the token in either field
    expected = sum(1 for d in docs if _has_token(d["summary"], "bioinformatics")
                   or _has_token(d["description"], "bioinformatics"))
    got = _count(http, name, {"multi_match": {"query": "bioinformatics", "fields": ["summary", "description"]}})
    if _token_is_clean(docs, "summary", "bioinformatics") and _token_is_clean(docs, "description",
                                                                               "bioinformatics"):
        assert got == expected

    # ranking is sane: the top hits for a rare token contain it
    body = _search(http, name, {"query": {"match": {"description": "bluetooth"}}, "size": 10})
    assert all("bluetooth" in h["_source"]["description"].lower() for h in body["hits"]["hits"])
    scores = [h["_score"] for h in body["hits"]["hits"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0


def test_sort_and_page(http, loaded, docs):
    _, name = loaded
    key = lambda d: (-(d["installed_size_kb"] if d["installed_size_kb"] is not None else -1), d["package"],
                     d["version"], d["architecture"])
    ranked = sorted(docs, key=key)
    sort = [{"installed_size_kb": "desc"}, {"package": "asc"}, {"version": "asc"}, {"architecture": "asc"}]
    body = _search(http, name, {"sort": sort, "size": 10, "_source": ["package"]})
    assert [h["_id"] for h in body["hits"]["hits"]] == [d["_id"] for d in ranked[:10]]
    assert body["hits"]["hits"][0]["sort"][0] == ranked[0]["installed_size_kb"]
    body = _search(http, name, {"sort": sort, "from": 100, "size": 5, "_source": False})
    assert [h["_id"] for h in body["hits"]["hits"]] == [d["_id"] for d in ranked[100:105]]

    games = sorted((d for d in docs if d["section"] == "games"), key=lambda d: (d["package"], d["_id"]))
    body = _search(http, name, {"query": {"term": {"section": "games"}},
                                "sort": [{"package": "asc"}, {"version": "asc"}, {"architecture": "asc"}],
                                "size": 20})
    assert [h["_source"]["package"] for h in body["hits"]["hits"]] == [d["package"] for d in games[:20]]


def test_get_and_mget(http, loaded, docs):
    _, name = loaded
    rng = random.Random(42)
    sample = rng.sample(docs, 200)
    for d in sample[:20]:
        r = http.get(f"/{name}/_doc/{requests_quote(d['_id'])}")
        assert r.status_code == 200, (d["_id"], r.text)
        src = dict(d)
        src.pop("_id")
        assert r.json()["_source"] == src
    r = http.post(f"/{name}/_mget", json={"ids": [d["_id"] for d in sample]})
    got = r.json()["docs"]
    assert [g["_id"] for g in got] == [d["_id"] for d in sample]
    assert all(g["found"] for g in got)
    body = _search(http, name, {"query": {"ids": {"values": [d["_id"] for d in sample[:50]]}}, "size": 100})
    assert {h["_id"] for h in body["hits"]["hits"]} == {d["_id"] for d in sample[:50]}


def test_client_queries(loaded, docs):
    client, name = loaded
    expected = sum(1 for d in docs if d["section"] == "games" and d["component"] == "contrib")
    query = {"bool": {"filter": [{"term": {"section": "games"}}, {"term": {"component": "contrib"}}]}}
    if hasattr(client, "perform_request") and type(client).__module__.startswith("elasticsearch"):
        resp = client.search(index=name, query=query, track_total_hits=True, size=0)
        assert client.count(index=name, query=query)["count"] == expected
    else:
        resp = client.search(index=name, body={"query": query, "track_total_hits": True, "size": 0})
    assert resp["hits"]["total"]["value"] == expected


def requests_quote(_id):
    from urllib.parse import quote

    return quote(_id, safe="")
