"""Durability: an acknowledged write survives kill -9.

Each cycle starts `searchgate serve` on the same data dir, checks that every write acknowledged in earlier
cycles is there, loads documents in a background thread (recording each bulk item or request the server
acknowledged), and kills the server with SIGKILL after a random short delay, in the middle of the load.
A final restart checks everything once more: every acknowledged document is retrievable by GET (real-time,
before any refresh) with the source that was sent, every acknowledged delete stayed deleted, and after a
refresh `_count` counts them all (writes that were in flight when the server died may or may not be there).

Two indices take the writes: one with the default refresh interval (commits happen during the load) and one
with `refresh_interval: -1` (only the write-ahead log holds its writes when the server dies).

Environment: SEARCHGATE_BIN (the binary), SEARCHGATE_CRASH_CYCLES (default 5), SEARCHGATE_CRASH_SEED.
"""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
import requests

import harness

CYCLES = int(os.environ.get("SEARCHGATE_CRASH_CYCLES", "5"))
SEED = int(os.environ.get("SEARCHGATE_CRASH_SEED", str(int(time.time()))))
INDICES = {"crash-refreshing": {}, "crash-norefresh": {"refresh_interval": "-1"}}
WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november".split()


@dataclass
class Ledger:
    """What the server acknowledged, across cycles."""

    present: dict = field(default_factory=dict)  # (index, id) -> source, acknowledged and not deleted since
    deleted: set = field(default_factory=set)  # (index, id) whose delete was acknowledged
    maybe: set = field(default_factory=set)  # (index, id) with a write in flight when the server died
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ack_index(self, key, src):
        with self.lock:
            self.present[key] = src
            self.maybe.discard(key)

    def ack_delete(self, key):
        with self.lock:
            self.present.pop(key, None)
            self.deleted.add(key)
            self.maybe.discard(key)

    def in_doubt(self, key):
        with self.lock:
            self.present.pop(key, None)
            self.deleted.discard(key)
            self.maybe.add(key)


def _doc(rng, cycle, n):
    return {"cycle": cycle, "n": n, "words": " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 30))),
            "value": rng.randint(-10**9, 10**9)}


def _start(data_dir, log_path):
    srv = harness.Server(data_dir, log_path=log_path)
    try:
        srv.start(timeout=120)  # replaying the log may take a while
    except harness.ServerError as e:
        pytest.fail(str(e))
    # a server may answer GET / before its indices are open again: wait as ES clients do (a no-op when green)
    r = requests.get(f"{srv.url}/_cluster/health", params={"wait_for_status": "green", "timeout": "60s"},
                     timeout=90)
    assert r.status_code in (200, 408), f"_cluster/health: {r.status_code} {r.text[:300]}"
    return srv


def _ensure_indices(url):
    for name, settings in INDICES.items():
        r = requests.head(f"{url}/{name}", timeout=30)
        if r.status_code == 404:
            body = {"settings": {"number_of_shards": 1, "number_of_replicas": 0, **settings},
                    "mappings": {"properties": {"cycle": {"type": "integer"}, "n": {"type": "long"},
                                                "words": {"type": "text"}, "value": {"type": "long"}}}}
            r = requests.put(f"{url}/{name}", json=body, timeout=30)
            assert r.status_code == 200, r.text


def verify(srv, ledger: Ledger, what: str):
    url = srv.url
    s = requests.Session()
    with ledger.lock:
        present = dict(ledger.present)
        deleted = set(ledger.deleted)
        maybe = set(ledger.maybe)
    for index in INDICES:
        want = {k[1]: v for k, v in present.items() if k[0] == index}
        gone = [k[1] for k in deleted if k[0] == index]
        # real-time GET (multi-get) before any refresh
        ids = list(want) + gone
        for i in range(0, len(ids), 1000):
            chunk = ids[i:i + 1000]
            r = s.post(f"{url}/{index}/_mget", json={"ids": chunk}, timeout=120)
            assert r.status_code == 200, f"{what}: mget {r.status_code} {r.text[:300]}\n{srv.log_tail()}"
            for d in r.json()["docs"]:
                if d["_id"] in want:
                    assert d.get("found") is True, f"{what}: acknowledged doc {index}/{d['_id']} lost: {d}"
                    assert d["_source"] == want[d["_id"]], f"{what}: {index}/{d['_id']} has the wrong source"
                else:
                    assert d.get("found") is False, f"{what}: acknowledged delete of {index}/{d['_id']} undone"
        # single GETs of a sample
        for _id in random.Random(len(ids)).sample(list(want), min(50, len(want))):
            r = s.get(f"{url}/{index}/_doc/{quote(_id, safe='')}", timeout=30)
            assert r.status_code == 200 and r.json()["_source"] == want[_id], f"{what}: GET {index}/{_id}: {r.text}"
        # searchable and counted after a refresh
        r = s.post(f"{url}/{index}/_refresh", timeout=120)
        assert r.status_code == 200, r.text
        count = s.get(f"{url}/{index}/_count", timeout=60).json()["count"]
        in_doubt = sum(1 for k in maybe if k[0] == index)
        assert len(want) <= count <= len(want) + in_doubt, (
            f"{what}: {index} _count {count}, acknowledged {len(want)}, in doubt {in_doubt}")
        wanted_ids = list(want)
        for i in range(0, len(wanted_ids), 1000):
            chunk = wanted_ids[i:i + 1000]
            r = s.post(f"{url}/{index}/_count", json={"query": {"ids": {"values": chunk}}}, timeout=60)
            assert r.json()["count"] == len(chunk), f"{what}: {index}: acknowledged docs missing from search"


class BulkLoader(threading.Thread):
    def __init__(self, url, ledger: Ledger, cycle: int, rng: random.Random, stop: threading.Event):
        super().__init__(daemon=True)
        self.url, self.ledger, self.cycle, self.rng, self.stop = url, ledger, cycle, rng, stop
        self.batches = 0
        self.acked = 0
        self.error = None

    def run(self):
        s = requests.Session()
        batch = 0
        while not self.stop.is_set():
            lines, ops = [], []
            with self.ledger.lock:
                deletable = [k for k in self.ledger.present if k[1].startswith("c")]
            for k in self.rng.sample(deletable, min(len(deletable), self.rng.randint(0, 5))):
                lines.append({"delete": {"_index": k[0], "_id": k[1]}})
                ops.append(("delete", k, None))
            for i in range(self.rng.randint(50, 400)):
                index = self.rng.choice(list(INDICES))
                key = (index, f"c{self.cycle}-b{batch}-{i}")
                src = _doc(self.rng, self.cycle, i)
                op = self.rng.choice(["index", "index", "create"])
                lines += [{op: {"_index": key[0], "_id": key[1]}}, src]
                ops.append((op, key, src))
            for _, key, _ in ops:
                self.ledger.in_doubt(key)
            try:
                r = s.post(f"{self.url}/_bulk", data=harness.ndjson(lines),
                           headers={"Content-Type": "application/x-ndjson"}, timeout=60)
            except requests.RequestException:
                return  # the server died: this batch stays in doubt
            if r.status_code != 200:
                self.error = f"bulk answered {r.status_code}: {r.text[:300]}"
                return
            items = r.json()["items"]
            if len(items) != len(ops):
                self.error = f"bulk answered {len(items)} items for {len(ops)} actions"
                return
            for (op, key, src), item in zip(ops, items):
                res = item[op]
                if op == "delete" and res["status"] in (200, 404):
                    self.ledger.ack_delete(key)
                elif op != "delete" and res["status"] in (200, 201):
                    self.ledger.ack_index(key, src)
                    self.acked += 1
                elif op != "delete":
                    self.error = f"unexpected item failure: {res}"
                    return
            batch += 1
            self.batches += 1


class SingleDocLoader(threading.Thread):
    def __init__(self, url, ledger: Ledger, tag: str, rng: random.Random, stop: threading.Event):
        super().__init__(daemon=True)
        self.url, self.ledger, self.tag, self.rng, self.stop = url, ledger, tag, rng, stop
        self.acked = 0
        self.error = None

    def run(self):
        s = requests.Session()
        n = 0
        while not self.stop.is_set():
            index = self.rng.choice(list(INDICES))
            src = _doc(self.rng, 0, n)
            kind = self.rng.random()
            try:
                if kind < 0.6:
                    key = (index, f"{self.tag}-{n}")
                    self.ledger.in_doubt(key)
                    r = s.put(f"{self.url}/{index}/_doc/{key[1]}", json=src, timeout=30)
                elif kind < 0.8:
                    key = None
                    r = s.post(f"{self.url}/{index}/_doc", json=src, timeout=30)
                else:
                    with self.ledger.lock:
                        candidates = [k for k in self.ledger.present if k[1].startswith(self.tag)]
                    if not candidates:
                        continue
                    key = self.rng.choice(candidates)
                    self.ledger.in_doubt(key)
                    r = s.delete(f"{self.url}/{key[0]}/_doc/{key[1]}", timeout=30)
                    if r.status_code == 200:
                        self.ledger.ack_delete(key)
                        continue
                    self.error = f"delete answered {r.status_code}: {r.text[:300]}"
                    return
            except requests.RequestException:
                if key is None:  # a generated id we never learned: it may exist, it is in doubt
                    self.ledger.in_doubt((index, f"unknown-{self.tag}-{n}"))
                return
            if r.status_code not in (200, 201):
                self.error = f"index answered {r.status_code}: {r.text[:300]}"
                return
            self.ledger.ack_index((index, r.json()["_id"]), src)
            self.acked += 1
            n += 1


def _run_cycles(tmp_path, loader_factory, label):
    if not harness.find_binary().exists():
        pytest.fail(f"searchgate binary not found at {harness.find_binary()}; set SEARCHGATE_BIN")
    rng = random.Random(SEED)
    print(f"{label}: seed {SEED}, {CYCLES} cycles")
    data = tmp_path / "data"
    log = tmp_path / "server.log"
    ledger = Ledger()
    for cycle in range(CYCLES):
        srv = _start(data, log)
        try:
            if cycle == 0:
                _ensure_indices(srv.url)
            else:
                verify(srv, ledger, f"after kill -9 #{cycle}")
            stop = threading.Event()
            loaders = loader_factory(srv.url, ledger, cycle, rng, stop)
            for t in loaders:
                t.start()
            # let the load get going, then kill in the middle of it
            deadline = time.monotonic() + 30
            while sum(t.acked for t in loaders) == 0 and time.monotonic() < deadline:
                if not any(t.is_alive() for t in loaders):
                    break
                time.sleep(0.01)
            time.sleep(rng.uniform(0.1, 1.5))
            alive = [t for t in loaders if t.is_alive()]
            srv.kill()
            stop.set()
            for t in loaders:
                t.join(timeout=60)
            errors = [t.error for t in loaders if t.error]
            assert not errors, f"cycle {cycle}: {errors}\n{srv.log_tail()}"
            assert alive, f"cycle {cycle}: the load had finished before the kill"
            print(f"cycle {cycle}: acknowledged {sum(t.acked for t in loaders)} writes before kill -9; "
                  f"{len(ledger.present)} docs expected, {len(ledger.maybe)} in doubt")
        except BaseException:
            print(srv.log_tail())
            srv.kill()
            raise
    srv = _start(data, log)
    try:
        verify(srv, ledger, f"after kill -9 #{CYCLES}")
        assert len(ledger.present) > 0
    finally:
        srv.terminate()


def test_kill9_during_bulk(tmp_path):
    def factory(url, ledger, cycle, rng, stop):
        return [BulkLoader(url, ledger, cycle, random.Random(rng.random()), stop)]

    _run_cycles(tmp_path, factory, "bulk")


def test_kill9_during_single_doc_writes(tmp_path):
    def factory(url, ledger, cycle, rng, stop):
        return [SingleDocLoader(url, ledger, f"s{cycle}t{t}", random.Random(rng.random()), stop) for t in range(3)]

    _run_cycles(tmp_path, factory, "single-doc")


def test_sigterm_is_graceful(tmp_path):
    """SIGTERM during a load: the server flushes, commits and exits 0; nothing acknowledged is lost."""
    if not harness.find_binary().exists():
        pytest.fail(f"searchgate binary not found at {harness.find_binary()}; set SEARCHGATE_BIN")
    data, log = tmp_path / "data", tmp_path / "server.log"
    ledger = Ledger()
    srv = _start(data, log)
    _ensure_indices(srv.url)
    stop = threading.Event()
    loader = BulkLoader(srv.url, ledger, 0, random.Random(SEED), stop)
    loader.start()
    time.sleep(1.0)
    code = srv.terminate(timeout=30)
    stop.set()
    loader.join(timeout=60)
    # 0, or 143 (128 + SIGTERM) from runtimes that exit with it after a clean shutdown (the JVM);
    # -15 (killed by the signal, nothing handled it) is a failure
    assert code in (0, 143), f"exit code {code} after SIGTERM\n{srv.log_tail()}"
    assert loader.acked > 0 and not loader.error, loader.error
    srv = _start(data, log)
    try:
        verify(srv, ledger, "after SIGTERM")
    finally:
        srv.terminate()
