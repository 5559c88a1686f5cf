#!/usr/bin/env python3
"""Generate the benchmark query sets from the corpora in ../shared/data.

    python3 bench/queries/generate.py [--data ../shared/data]

Writes, next to this script (deterministic: same corpora, same files):

  debian.jsonl        search queries on the `debian` index (debian-4releases), P1's mixed set
  flights.jsonl       search queries (no aggregations) on the `flights` index
  flights-aggs.jsonl  terms / date_histogram / stats / range aggregations on `flights`

One JSON object a line: {"id", "kind", "method", "path", "body"}. Every value used (words,
sections, tags, maintainers, packages, carriers, airports) is taken from the corpora, and a
query is kept only if its words occur in the corpus, so none is trivially empty.
"""
import argparse
import collections
import json
import lzma
import os
import random
import re

HERE = os.path.dirname(os.path.abspath(__file__))
WORD = re.compile(r"[a-z0-9]+")

# What people type into a package search box. Kept only when every word occurs in the corpus.
TEXT_QUERIES = [
    "web server", "http server", "python library", "image editor", "video player", "audio player",
    "json parser", "ssh client", "text editor", "pdf viewer", "music player", "password manager",
    "command line tool", "database server", "terminal emulator", "file manager", "window manager",
    "network monitoring", "backup", "compression library", "regular expression", "xml parser",
    "game engine", "chess", "font", "spell checker", "email client", "irc client", "vpn",
    "firewall", "container", "virtual machine", "emulator", "compiler", "debugger", "profiler",
    "unit testing framework", "documentation generator", "markdown", "latex", "spreadsheet",
    "calendar", "bitcoin", "bioinformatics", "astronomy", "machine learning", "neural network",
    "linear algebra", "statistics", "plotting", "gis", "openstreetmap", "bluetooth", "wifi",
    "usb", "printer driver", "scanner", "camera", "screenshot", "clipboard", "keyboard layout",
    "input method", "translation", "dictionary", "ocr", "speech synthesis", "mp3 encoder",
    "flac", "midi", "synthesizer", "3d modeling", "ray tracing", "opengl", "vulkan", "wayland",
    "systemd", "cron", "dns", "dhcp", "ldap", "kerberos", "tls", "certificate", "encryption",
    "gpg", "git", "subversion", "mercurial", "rust crate", "perl module", "haskell library",
    "go library", "ruby gem", "node module", "java library", "php extension", "ocaml library",
]
PHRASES = [
    "command line", "web browser", "shared library", "development files", "debugging symbols",
    "text editor", "window manager", "virtual machine", "file system", "game engine",
    "version control", "regular expressions", "unit tests", "graphical user interface",
    "network protocol", "image processing",
]


def tokens(text):
    return WORD.findall((text or "").lower())


def load(path, limit=None):
    with lzma.open(path, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if limit is not None and i >= limit:
                break
            yield json.loads(line)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(HERE, "..", "..", "..", "shared", "data"))
    args = ap.parse_args()
    rnd = random.Random(20130101)

    # ---------------------------------------------------------------- debian
    desc_df = collections.Counter()
    sections = collections.Counter()
    tags = collections.Counter()
    maints = collections.Counter()
    packages = []
    sizes = []
    for d in load(os.path.join(args.data, "debian-4releases.ndjson.xz")):
        desc_df.update(set(tokens(d.get("description"))) | set(tokens(d.get("summary"))))
        sections[d["section"]] += 1
        tags.update(d.get("tags") or [])
        maints[d["maintainer_name"]] += 1
        if rnd.random() < 0.002:
            packages.append(d["package"])
        if d.get("installed_size_kb") is not None:
            sizes.append(d["installed_size_kb"])
    sizes.sort()
    q = lambda p: sizes[int(len(sizes) * p)]  # noqa: E731
    size_cuts = [q(0.25), q(0.5), q(0.75), q(0.9), q(0.99)]
    texts = [t for t in TEXT_QUERIES if all(desc_df[w] for w in tokens(t))]
    phrases = [p for p in PHRASES if all(desc_df[w] for w in tokens(p))]
    top_sections = [s for s, _ in sections.most_common(30)]
    top_tags = [t for t, _ in tags.most_common(60)]
    top_maints = [m for m, _ in maints.most_common(25)]
    suites = ["bullseye", "bookworm", "trixie", "sid"]

    out = []

    def add(kind, body, index="debian", method="POST", path=None):
        out.append({"id": f"{kind}-{sum(1 for o in out if o['kind'] == kind) + 1:03d}", "kind": kind,
                    "method": method, "path": path or f"/{index}/_search", "body": body})

    # full-text match on description (the most common kind of search)
    for t in texts[:30]:
        add("match", {"query": {"match": {"description": t}}})
    # multi_match over summary and description, some with operator and
    for i, t in enumerate(texts[30:50]):
        mm = {"query": t, "fields": ["summary^2", "description"]}
        if i % 2:
            mm["operator"] = "and"
        add("multi_match", {"query": {"multi_match": mm}})
    # phrases in summaries / descriptions
    for i, p in enumerate(phrases):
        add("phrase", {"query": {"match_phrase": {("summary" if i % 2 else "description"): p}}})
    # bool: text must + keyword / range filters
    for i in range(24):
        t = texts[(i * 7) % len(texts)]
        filters = [{"term": {"suite": suites[i % 4]}}]
        if i % 3 == 0:
            filters.append({"term": {"section": top_sections[i % len(top_sections)]}})
        if i % 3 == 1:
            filters.append({"range": {"installed_size_kb": {"gte": size_cuts[i % 3], "lt": size_cuts[4]}}})
        if i % 3 == 2:
            filters.append({"terms": {"tags": rnd.sample(top_tags, 2)}})
        body = {"query": {"bool": {"must": [{"match": {"description": t}}], "filter": filters}}}
        if i % 4 == 3:
            body["query"]["bool"]["must_not"] = [{"term": {"section": "oldlibs"}}]
            body["query"]["bool"]["should"] = [{"match": {"summary": t}}]
        add("bool_filter", body)
    # sorts by numeric and date fields (filtered, as a listing page would do)
    for i in range(16):
        sec = top_sections[(i * 3) % len(top_sections)]
        fld = ["installed_size_kb", "size_bytes", "dependency_count", "release_date"][i % 4]
        sort = [{fld: {"order": "desc" if i % 2 == 0 else "asc"}}]
        if fld == "release_date":
            sort.append({"package": "asc"})
        body = {"query": {"bool": {"filter": [{"term": {"section": sec}}]}}, "sort": sort, "size": 20}
        if i % 4 == 1:
            body["query"] = {"match": {"description": texts[i % len(texts)]}}
        if i % 4 == 2:
            body["_source"] = ["package", "version", "suite", fld]
        add("sort", body)
    # pagination: deeper pages of popular searches
    for i in range(12):
        t = texts[(i * 5) % len(texts)]
        frm = [10, 20, 40, 60, 100, 200][i % 6]
        add("paginate", {"query": {"match": {"description": t}}, "from": frm, "size": 20})
    # keyword lookups: exact package, maintainer's packages, tags, prefix
    for i, p in enumerate(packages[:6]):
        add("keyword", {"query": {"term": {"package": p}}})
    for i, m in enumerate(top_maints[:6]):
        add("keyword", {"query": {"bool": {"filter": [{"term": {"maintainer_name.raw": m}},
                                                       {"term": {"suite": suites[(i + 1) % 4]}}]}},
                        "track_total_hits": True})
    for i in range(4):
        add("keyword", {"query": {"prefix": {"package": ["python3-", "libghc-", "golang-", "node-"][i]}}})
    deb = out

    # ---------------------------------------------------------------- flights
    carriers = collections.Counter()
    origins = collections.Counter()
    dests = collections.Counter()
    for d in load(os.path.join(args.data, "flights-nyc-2013.ndjson.xz")):
        carriers[d["carrier"]] += 1
        origins[d["origin"]] += 1
        dests[d["dest"]] += 1
    cs = [c for c, _ in carriers.most_common()]
    os_ = [o for o, _ in origins.most_common()]
    ds = [d for d, _ in dests.most_common(40)]
    months = [f"2013-{m:02d}" for m in range(1, 13)]

    out = []
    for i in range(12):
        m = months[i]
        body = {"query": {"bool": {"filter": [
            {"term": {"origin": os_[i % len(os_)]}},
            {"range": {"@timestamp": {"gte": f"{m}-01", "lt": f"{m}-08"}}},
            {"range": {"dep_delay": {"gte": [15, 30, 60, 120][i % 4]}}}]}},
            "sort": [{"dep_delay": "desc"}, {"@timestamp": "asc"}], "size": 20}
        if i % 3 == 0:
            body["query"]["bool"]["must"] = [{"match": {"dest_name": "International"}}]
        add("flights_search", body, index="flights")
    flights = out

    out = []
    for i in range(10):
        m = months[i]
        flt = [{"range": {"@timestamp": {"gte": f"{m}-01", "lt": f"{months[(i + 1) % 12] if i < 11 else '2014-01'}-01"}}}]
        if i % 2:
            flt.append({"term": {"origin": os_[i % len(os_)]}})
        add("agg_terms", {"size": 0, "query": {"bool": {"filter": flt}}, "aggs": {
            "by_carrier": {"terms": {"field": ["carrier", "dest", "origin", "tailnum"][i % 4], "size": 10},
                           "aggs": {"avg_delay": {"avg": {"field": "arr_delay"}}}}}}, index="flights")
    for i in range(8):
        interval = ["day", "week", "month", "hour"][i % 4]
        flt = [{"term": {"carrier": cs[i % len(cs)]}}]
        if interval == "hour":
            flt.append({"range": {"@timestamp": {"gte": f"{months[i]}-01", "lt": f"{months[i]}-03"}}})
        add("agg_date_histogram", {"size": 0, "query": {"bool": {"filter": flt}}, "aggs": {
            "per": {"date_histogram": {"field": "@timestamp", "calendar_interval": interval},
                    "aggs": {"delay": {"stats": {"field": "dep_delay"}}}}}}, index="flights")
    for i in range(8):
        add("agg_stats", {"size": 0, "query": {"bool": {"filter": [
            {"term": {"dest": ds[i]}}, {"term": {"origin": os_[i % len(os_)]}}]}},
            "aggs": {"dep": {"stats": {"field": "dep_delay"}}, "arr": {"stats": {"field": "arr_delay"}},
                     "dist": {"avg": {"field": "distance"}},
                     "late": {"range": {"field": "arr_delay", "ranges": [{"to": 0}, {"from": 0, "to": 30},
                                                                          {"from": 30}]}}}}, index="flights")
    aggs = out

    for name, rows in (("debian.jsonl", deb), ("flights.jsonl", flights), ("flights-aggs.jsonl", aggs)):
        with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
        kinds = collections.Counter(r["kind"] for r in rows)
        print(f"{name}: {len(rows)} queries {dict(kinds)}")


if __name__ == "__main__":
    main()
