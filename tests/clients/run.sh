#!/usr/bin/env bash
# Run the client test suite with the official Python clients, then the crash test.
#
#   1. scripts/setup-python          (venvs in ~/.cache/searchgate, pinned versions, idempotent)
#   2. tests/clients in venv-es8     (elasticsearch-py 8.x, opensearch-py), without the corpus test
#   3. tests/clients in venv-es9     (elasticsearch-py 9.x, opensearch-py), with the corpus test
#   4. tests/crash in venv-es9       (kill -9 during loads, at least 5 cycles)
#   5. gateway in venv-es9           (a one-node OpenSearch via scripts/opensearch, `searchgate serve --upstream`
#                                     in front of it: tests/gateway, then tests/clients with the corpus test
#                                     through the gateway; see tests/gateway/README.md)
#
# Each pytest run starts its own `searchgate serve` on a temporary data dir and a free port.
# Environment:
#   SEARCHGATE_BIN    the binary (default: $CARGO_TARGET_DIR/debug/searchgate, else target/debug/searchgate;
#                     built with `cargo build --bin searchgate` when missing and the workspace exists)
#   SEARCHGATE_URL    test an already running server instead (skips the tests that must start their own,
#                     and the crash test)
#   SG_SUITES         which runs, default "es8 es9 crash gateway"
# Extra arguments go to every pytest run (e.g. -x, -k bulk).
# Exit status: non-zero if any run failed or collected no tests.
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo_root"

suites="${SG_SUITES:-es8 es9 crash gateway}"

venvs="$(scripts/setup-python)" || { echo "run.sh: scripts/setup-python failed" >&2; exit 1; }
venv_es8="$(sed -n 1p <<<"$venvs")"
venv_es9="$(sed -n 2p <<<"$venvs")"

if [[ -z "${SEARCHGATE_URL:-}" ]]; then
    if [[ -z "${SEARCHGATE_BIN:-}" ]]; then
        SEARCHGATE_BIN="${CARGO_TARGET_DIR:-$repo_root/target}/debug/searchgate"
        if [[ ! -x "$SEARCHGATE_BIN" && -f "$repo_root/Cargo.toml" ]]; then
            echo "run.sh: building searchgate (cargo build --bin searchgate)" >&2
            cargo build --bin searchgate >&2 || { echo "run.sh: cargo build failed" >&2; exit 1; }
        fi
    fi
    if [[ ! -x "$SEARCHGATE_BIN" ]]; then
        echo "run.sh: searchgate binary not found at $SEARCHGATE_BIN (set SEARCHGATE_BIN)" >&2
        exit 1
    fi
    export SEARCHGATE_BIN
    echo "run.sh: testing $SEARCHGATE_BIN" >&2
else
    echo "run.sh: testing the server at $SEARCHGATE_URL" >&2
fi

failed=()
run_pytest() {
    local label="$1" venv="$2"
    shift 2
    echo
    echo "===== $label: $("$venv/bin/python" -c 'import elasticsearch; print("elasticsearch-py", elasticsearch.__versionstr__)')"
    "$venv/bin/python" -m pytest -p no:cacheprovider "$@"
    local rc=$?
    if [[ $rc -eq 5 ]]; then
        echo "run.sh: $label collected no tests: counted as a failure" >&2
        failed+=("$label (no tests)")
    elif [[ $rc -ne 0 ]]; then
        failed+=("$label (exit $rc)")
    fi
}

for suite in $suites; do
    case "$suite" in
        es8) run_pytest "clients/es8" "$venv_es8" tests/clients -m "not corpus" "$@" ;;
        es9) run_pytest "clients/es9" "$venv_es9" tests/clients "$@" ;;
        crash)
            if [[ -n "${SEARCHGATE_URL:-}" ]]; then
                echo "run.sh: crash test skipped (SEARCHGATE_URL is set; it must start its own server)" >&2
            else
                run_pytest "crash" "$venv_es9" tests/crash "$@"
            fi
            ;;
        gateway)
            if [[ -n "${SEARCHGATE_URL:-}" ]]; then
                echo "run.sh: gateway suite skipped (SEARCHGATE_URL is set; it starts OpenSearch and its own gateway)" >&2
            else
                # the plugin stops the cluster at the end; this trap covers a run.sh that is interrupted
                gw_cluster="${SG_GATEWAY_OPENSEARCH_NAME:-sg-gw-test}"
                if [[ -z "${SG_GATEWAY_UPSTREAM:-}" && "${SEARCHGATE_KEEP_OPENSEARCH:-}" != 1 ]]; then
                    trap 'scripts/opensearch stop --name "$gw_cluster" >/dev/null 2>&1 || true' EXIT
                fi
                PYTHONPATH="$repo_root/tests/gateway:$repo_root/tests/clients${PYTHONPATH:+:$PYTHONPATH}" \
                    run_pytest "gateway" "$venv_es9" -p gateway_plugin tests/gateway tests/clients "$@"
            fi
            ;;
        *) echo "run.sh: unknown suite $suite" >&2; failed+=("$suite (unknown)") ;;
    esac
done

echo
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "run.sh: FAILED: ${failed[*]}"
    exit 1
fi
echo "run.sh: all suites passed ($suites)"
