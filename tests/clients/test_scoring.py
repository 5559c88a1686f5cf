"""BM25 scores as Elasticsearch 8 and OpenSearch 2 compute them.

Lucene's own BM25Similarity (since Lucene 8) dropped the (k1 + 1) factor, but Elasticsearch (7.0 up to 8.x
at least) and OpenSearch 2.x score text with `LegacyBM25Similarity`, which keeps it, so that scores did not
change when Lucene did (ES's SimilarityProviders.createBM25Similarity). Checked on OpenSearch 2.19.6: every
score below is exactly (k1 + 1) = 2.2 times the factor-less formula. So:

    score(q, d) = sum over query terms t of  idf(t) * (k1 + 1) * tf / (tf + k1 * (1 - b + b * dl / avgdl))
    idf(t)      = ln(1 + (N - n + 0.5) / (n + 0.5))

with k1 = 1.2, b = 0.75, tf the term's frequency in the field of d, dl the field length of d in tokens,
N the number of docs that have the field (Lucene's CollectionStatistics.docCount), n the number of docs
containing t, and avgdl = total tokens in the field / N. Lucene stores dl lossily in one byte
(SmallFloat.intToByte4), exactly only for small lengths: every doc here has <= 12 tokens.
"""

import math
import re

import pytest

K1, B = 1.2, 0.75

DOCS = {
    "1": "the quick brown fox jumps over the lazy dog",
    "2": "quick quick quick fox",
    "3": "a lazy afternoon",
    "4": "fox",
    "5": "brown bread and brown butter and brown sugar with tea",
    "6": "the dog and the cat and the fox and the bird",
}
NO_FIELD = {"7": {"other": "fox fox fox"}, "8": {"other": "nothing"}}  # no `text` field: not in N or avgdl


def tokens(text):
    return re.findall(r"[a-z0-9]+", text.lower())


def lucene_bm25(query_terms, field_docs):
    toks = {d: tokens(t) for d, t in field_docs.items()}
    n_docs = len(toks)
    avgdl = sum(len(t) for t in toks.values()) / n_docs
    scores = {}
    for d, tk in toks.items():
        s = 0.0
        matched = False
        for term in query_terms:
            tf = tk.count(term)
            if tf == 0:
                continue
            matched = True
            n = sum(1 for t in toks.values() if term in t)
            idf = math.log(1 + (n_docs - n + 0.5) / (n + 0.5))
            s += idf * (K1 + 1) * tf / (tf + K1 * (1 - B + B * len(tk) / avgdl))
        if matched:
            scores[d] = s
    return scores


@pytest.fixture
def scored(make_index, load):
    name = make_index({"mappings": {"properties": {"text": {"type": "text"}, "other": {"type": "text"},
                                                   "k": {"type": "keyword"}}}})
    docs = {d: {"text": t, "k": t.split()[0]} for d, t in DOCS.items()}
    docs.update(NO_FIELD)
    load(name, docs)
    return name


def _scores(http, index, query):
    r = http.post(f"/{index}/_search", json={"query": query, "size": 100})
    assert r.status_code == 200, r.text
    return {h["_id"]: h["_score"] for h in r.json()["hits"]["hits"]}, r.json()["hits"]["max_score"]


@pytest.mark.parametrize("query", ["fox", "brown", "lazy dog", "quick fox", "the", "brown fox tea"])
def test_match_scores_equal_lucene_bm25(http, scored, query):
    expected = lucene_bm25(tokens(query), DOCS)
    got, max_score = _scores(http, scored, {"match": {"text": query}})
    assert set(got) == set(expected)
    assert got == pytest.approx(expected, rel=1e-3)
    assert max_score == pytest.approx(max(expected.values()), rel=1e-3)


def test_term_query_score(http, scored):
    expected = lucene_bm25(["fox"], DOCS)
    got, _ = _scores(http, scored, {"term": {"text": "fox"}})
    assert got == pytest.approx(expected, rel=1e-3)


def test_hit_order_follows_scores(http, scored):
    expected = lucene_bm25(["brown", "fox"], DOCS)
    r = http.post(f"/{scored}/_search", json={"query": {"match": {"text": "brown fox"}}})
    got = [h["_id"] for h in r.json()["hits"]["hits"]]
    assert got == sorted(expected, key=lambda d: (-expected[d], int(d)))


def test_keyword_term_score(http, scored):
    """Keyword fields index docs only, without norms: tf = 1 and dl = avgdl = 1 (one value per doc),
    so every match scores idf * (k1 + 1) * 1 / (1 + k1) = idf."""
    n_docs = len(DOCS)
    n = sum(1 for t in DOCS.values() if t.split()[0] == "the")
    idf = math.log(1 + (n_docs - n + 0.5) / (n + 0.5))
    got, _ = _scores(http, scored, {"term": {"k": "the"}})
    assert set(got) == {"1", "6"}
    assert got == pytest.approx({"1": idf, "6": idf}, rel=1e-3)


def test_scores_with_elasticsearch_client(es, scored):
    expected = lucene_bm25(["lazy"], DOCS)
    resp = es.search(index=scored, query={"match": {"text": "lazy"}})
    got = {h["_id"]: h["_score"] for h in resp["hits"]["hits"]}
    assert got == pytest.approx(expected, rel=1e-3)
