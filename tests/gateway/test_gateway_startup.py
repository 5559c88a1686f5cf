"""Start-up of the gateway: a configuration that cannot work, or a cluster that does not answer, is a clear
error on stderr and a non-zero exit; `--allow-unavailable-at-start` starts anyway."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import requests

import harness

pytestmark = pytest.mark.gateway


def dead_url() -> str:
    """A port nothing listens on."""
    return f"http://127.0.0.1:{harness.free_port()}"


def run_serve(searchgate_bin, tmp_dir, *args, timeout=60):
    """`searchgate serve ...` expected to exit by itself; returns (exit code, stderr)."""
    argv = [str(searchgate_bin), "serve", "--data-dir", str(tmp_dir / "data"),
            "--listen", f"127.0.0.1:{harness.free_port()}", *args]
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout)
    return r.returncode, r.stderr


def last_line(stderr: str) -> str:
    """The message the binary prints last (`searchgate: ...`)."""
    lines = [ln for ln in stderr.splitlines() if ln.startswith("searchgate: ")]
    assert lines, f"no `searchgate: ...` message on stderr:\n{stderr}"
    return lines[-1]


def write_config(tmp_dir, text: str):
    path = tmp_dir / "searchgate.toml"
    path.write_text(text)
    return path


def test_unreachable_upstream_is_a_start_up_error(searchgate_bin, tmp_dir):
    url = dead_url()
    code, stderr = run_serve(searchgate_bin, tmp_dir, "--upstream", url)
    assert code != 0, stderr
    msg = last_line(stderr)
    assert "the gateway cannot reach its cluster" in msg, msg
    assert url in msg and "connection refused" in msg, msg
    assert "--allow-unavailable-at-start" in msg, msg


def test_unreachable_upstream_from_the_environment(searchgate_bin, tmp_dir):
    url = dead_url()
    argv = [str(searchgate_bin), "serve", "--data-dir", str(tmp_dir / "data"),
            "--listen", f"127.0.0.1:{harness.free_port()}"]
    env = dict(os.environ, SEARCHGATE_UPSTREAM=url)
    r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert url in last_line(r.stderr)


def test_bad_url_is_a_configuration_error(searchgate_bin, tmp_dir):
    code, stderr = run_serve(searchgate_bin, tmp_dir, "--upstream", "ftp://127.0.0.1:9200")
    assert code == 2, stderr
    msg = last_line(stderr)
    assert "--upstream" in msg and "invalid node url [ftp://127.0.0.1:9200]" in msg, msg
    assert "scheme must be http or https" in msg, msg


def test_missing_ca_file(searchgate_bin, tmp_dir):
    ca = tmp_dir / "no-such-ca.pem"
    cfg = write_config(tmp_dir, f'[[clusters]]\nname = "secure"\nnodes = ["https://127.0.0.1:9200"]\n'
                                f'tls = {{ ca = "{ca}" }}\n')
    code, stderr = run_serve(searchgate_bin, tmp_dir, "--config", str(cfg))
    assert code == 2, stderr
    msg = last_line(stderr)
    assert f"cannot use ca file [{ca}]" in msg and "no such file" in msg, msg
    assert "[[clusters]] entry [secure]" in msg, msg


def test_ca_file_without_a_certificate(searchgate_bin, tmp_dir):
    ca = tmp_dir / "garbage.pem"
    ca.write_text("this is not a certificate\n")
    cfg = write_config(tmp_dir, f'[[clusters]]\nnodes = ["https://127.0.0.1:9200"]\ntls = {{ ca = "{ca}" }}\n')
    code, stderr = run_serve(searchgate_bin, tmp_dir, "--config", str(cfg))
    assert code == 2, stderr
    msg = last_line(stderr)
    assert f"[{ca}]" in msg and "no PEM certificate" in msg, msg


def test_several_clusters_are_not_built_yet(searchgate_bin, tmp_dir):
    cfg = write_config(tmp_dir, '[[clusters]]\nname = "a"\nnodes = ["http://127.0.0.1:1"]\n'
                                '[[clusters]]\nname = "b"\nnodes = ["http://127.0.0.1:2"]\n')
    code, stderr = run_serve(searchgate_bin, tmp_dir, "--config", str(cfg))
    assert code == 2, stderr
    assert "federation is not built yet" in last_line(stderr)


def test_allow_unavailable_at_start(searchgate_bin, tmp_dir):
    """Starts without a living node; requests fail as ES errors naming node and cause; SIGTERM exits 0."""
    url = dead_url()
    port = harness.free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_dir / "gw.log", "wb")
    proc = subprocess.Popen([str(searchgate_bin), "serve", "--data-dir", str(tmp_dir / "data"),
                             "--listen", f"127.0.0.1:{port}", "--upstream", url, "--allow-unavailable-at-start"],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (tmp_dir / "gw.log").read_text()
            try:
                if requests.get(base + "/_searchgate/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "the gateway did not start"
            time.sleep(0.1)
        r = requests.get(base + "/_searchgate/health", timeout=10)
        assert r.json() == {"status": "ok"}
        assert r.headers["X-Elastic-Product"] == "Elasticsearch"

        r = requests.get(base + "/idx/_search", timeout=30)
        err = harness.assert_es_error(r, 502, "connect_exception")
        assert err["node"] == url and "connection refused" in err["cause"], err
        assert r.headers["X-Elastic-Product"] == "Elasticsearch"

        nodes = requests.get(base + "/_searchgate/nodes", timeout=10).json()
        assert [n["url"] for n in nodes["nodes"]] == [url]
        assert nodes["nodes"][0]["state"] == "dead", nodes
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        log.close()
    assert code == 0, (tmp_dir / "gw.log").read_text()
