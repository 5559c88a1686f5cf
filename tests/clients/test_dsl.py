"""elasticsearch.dsl (shipped inside elasticsearch-py since 8.18): Document, Search, Q, unmodified.

In elasticsearch-py 9, `Document.search()` adds `"_source": {"exclude_vectors": false}` to every search.
"""

from datetime import datetime

import pytest
from elasticsearch import NotFoundError

pytest.importorskip("elasticsearch.dsl")

from elasticsearch.dsl import (  # noqa: E402
    Boolean,
    Date,
    Document,
    Double,
    GeoPoint,
    InnerDoc,
    Integer,
    Keyword,
    Long,
    Object,
    Q,
    Search,
    Text,
)


class Author(InnerDoc):
    name = Keyword()
    country = Keyword()


def article_class(index_name):
    class Article(Document):
        title = Text(fields={"raw": Keyword()})
        body = Text()
        tags = Keyword(multi=True)
        views = Integer()
        size = Long()
        rating = Double()
        published = Date()
        draft = Boolean()
        location = GeoPoint()
        author = Object(Author)

        class Index:
            name = index_name
            settings = {"number_of_shards": 1, "number_of_replicas": 0}

    return Article


ROWS = [
    ("1", "Hello search world", "the first post about search", ["intro", "search"], 10, 4.5, datetime(2024, 1, 2),
     False, "NO"),
    ("2", "Searching with Python", "python clients for search servers", ["python", "search"], 25, 4.9,
     datetime(2024, 2, 3), False, "SE"),
    ("3", "Draft notes", "unfinished thoughts", ["misc"], 0, None, datetime(2024, 3, 4), True, "NO"),
    ("4", "World news", "nothing about search here", ["news"], 7, 3.0, datetime(2023, 12, 31), False, "DK"),
]


@pytest.fixture
def articles(es, index):
    Article = article_class(index)
    Article.init(using=es)
    for _id, title, body, tags, views, rating, published, draft, country in ROWS:
        Article(meta={"id": _id}, title=title, body=body, tags=tags, views=views, size=views * 1000,
                rating=rating, published=published, draft=draft, location={"lat": 59.9, "lon": 10.7},
                author=Author(name=f"author{_id}", country=country)).save(using=es)
    es.indices.refresh(index=index)
    return Article


def test_init_creates_mapping(es, articles):
    props = es.indices.get_mapping(index=articles._index._name)[articles._index._name]["mappings"]["properties"]
    assert props["title"] == {"type": "text", "fields": {"raw": {"type": "keyword"}}}
    assert props["views"] == {"type": "integer"}
    assert props["published"] == {"type": "date"}
    assert props["location"] == {"type": "geo_point"}
    assert props["author"]["properties"]["country"] == {"type": "keyword"}
    articles.init(using=es)  # a second init on an existing index (put mapping with the same fields) is fine


def test_document_get_update_delete(es, articles):
    a = articles.get(id="2", using=es)
    assert a.meta.id == "2" and a.title == "Searching with Python"
    assert a.published == datetime(2024, 2, 3)  # dates come back as datetime
    assert list(a.tags) == ["python", "search"] and a.author.country == "SE"
    assert a.meta.version == 1 and a.meta.seq_no >= 0 and a.meta.primary_term == 1

    a.update(using=es, views=26, refresh=True)
    assert articles.get(id="2", using=es).views == 26

    a.views = 27
    a.save(using=es, refresh=True)
    again = articles.get(id="2", using=es)
    assert again.views == 27 and again.meta.version == 3

    with pytest.raises(NotFoundError):
        articles.get(id="nope", using=es)
    docs = articles.mget(["1", "nope", "3"], using=es, missing="none")
    assert [d.meta.id if d else None for d in docs] == ["1", None, "3"]

    again.delete(using=es, refresh=True)
    with pytest.raises(NotFoundError):
        articles.get(id="2", using=es)
    assert articles.search(using=es).count() == 3


def test_document_search(es, articles):
    s = articles.search(using=es).query("match", title="search").filter("term", tags="search")
    resp = s.execute()
    assert resp.hits.total.value == 1
    assert [h.meta.id for h in resp] == ["1"]
    assert isinstance(resp[0], articles) and resp[0].meta.score > 0

    s = articles.search(using=es).query(Q("multi_match", query="search", fields=["title^2", "body"]))
    assert {h.meta.id for h in s.execute()} == {"1", "2", "4"}

    s = articles.search(using=es).filter("range", published={"gte": "2024-01-01"}).sort("-views")
    assert [h.meta.id for h in s.execute()] == ["2", "1", "3"]
    assert s.count() == 3

    s = articles.search(using=es).exclude("term", draft=True).sort("published")[1:3]
    assert [h.meta.id for h in s.execute()] == ["1", "2"]


def test_search_with_q_objects(es, articles):
    index = articles._index._name
    q = Q("bool", must=[Q("match", body="search")], must_not=[Q("term", **{"author.country": "DK"})],
          should=[Q("term", tags="python")], minimum_should_match=0)
    s = Search(using=es, index=index).query(q).source(["title", "views"])
    resp = s.execute()
    assert [h.meta.id for h in resp] == ["2", "1"]  # the should clause lifts 2
    assert resp[0].to_dict() == {"title": "Searching with Python", "views": 25}

    q = Q("match", title="world") | Q("term", tags="python")
    assert sorted(h.meta.id for h in Search(using=es, index=index).query(q).execute()) == ["1", "2", "4"]
    q = Q("match", title="world") & ~Q("term", tags="news")
    assert [h.meta.id for h in Search(using=es, index=index).query(q).execute()] == ["1"]

    s = Search(using=es, index=index).query("constant_score", filter=Q("exists", field="rating"))
    assert {h.meta.id: h.meta.score for h in s.execute()} == {"1": 1.0, "2": 1.0, "4": 1.0}
    s = Search(using=es, index=index).query("ids", values=["3", "4"]).extra(track_total_hits=True, size=1)
    resp = s.execute()
    assert resp.hits.total.value == 2 and len(resp.hits) == 1
    s = Search(using=es, index=index).query("prefix", **{"title.raw": "Se"})
    assert [h.meta.id for h in s.execute()] == ["2"]
    s = Search(using=es, index=index).query("terms", tags=["news", "misc"]).sort({"views": {"order": "asc"}})
    assert [h.meta.id for h in s.execute()] == ["3", "4"]
    s = Search(using=es, index=index).query("match_phrase", body="about search")
    assert sorted(h.meta.id for h in s.execute()) == ["1", "4"]


def test_search_scan(es, articles):
    """helpers.scan needs the scroll API, which this issue does not cover: only check iteration by pages."""
    s = articles.search(using=es).sort("views")
    ids = []
    for start in range(0, 4, 2):
        ids += [h.meta.id for h in s[start:start + 2].execute()]
    assert ids == ["3", "4", "1", "2"]
