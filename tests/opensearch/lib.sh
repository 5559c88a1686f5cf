# Helpers shared by tests/opensearch/*.sh (sourced, not run).
# shellcheck shell=bash disable=SC2034 # variables here are used by the tests that source this

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OPENSEARCH=$REPO_ROOT/scripts/opensearch
SHARED_DATA=${SEARCHGATE_SHARED_DATA:-$REPO_ROOT/../shared/data}
PASSED=0
FAILED=0

say() { printf '[%s] %s\n' "$TEST_NAME" "$*" >&2; }
ok() { PASSED=$((PASSED + 1)); printf 'ok - %s\n' "$*"; }
not_ok() { FAILED=$((FAILED + 1)); printf 'not ok - %s\n' "$*"; }
# check DESCRIPTION EXPECTED ACTUAL
check() {
    if [[ "$2" == "$3" ]]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi
}
summary() {
    printf '%s: %d passed, %d failed\n' "$TEST_NAME" "$PASSED" "$FAILED"
    ((FAILED == 0))
}

# The debian mapping and a small debian corpus, which every test here loads.
MAPPING=$SHARED_DATA/mappings/debian.json
CORPUS=$SHARED_DATA/debian-bookworm.ndjson.xz
require_debian_data() {
    [[ -f "$MAPPING" && -f "$CORPUS" ]] || { say "missing $MAPPING or $CORPUS"; exit 1; }
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Sets HTTP_PORT and TRANSPORT_PORT so that $1 consecutive ports from each are free.
pick_ports() {
    local n=$1 attempt base i free
    for ((attempt = 0; attempt < 50; attempt++)); do
        # Below the kernel's ephemeral range (32768 up by default): a port there can be
        # held by an outgoing connection, which the probe below does not see, and the
        # node's bind then fails.
        base=$((20000 + (RANDOM % 1200) * 10))
        free=1
        for ((i = 0; i < n; i++)); do
            if ! port_free $((base + i)) || ! port_free $((base + 5 + i)); then free=0; break; fi
        done
        if ((free)); then HTTP_PORT=$base; TRANSPORT_PORT=$((base + 5)); return 0; fi
    done
    echo "no free ports found" >&2
    return 1
}

# curl that prints the body and fails on HTTP >= 400 (the body still goes to stderr then).
es() {
    local method=$1 path=$2
    shift 2
    local out code
    out=$(curl -sS -X "$method" -w '\n%{http_code}' "$URL$path" "$@") || return 1
    code=${out##*$'\n'}
    out=${out%$'\n'*}
    if ((code >= 400)); then
        printf 'HTTP %s from %s %s: %s\n' "$code" "$method" "$path" "$out" >&2
        return 1
    fi
    printf '%s\n' "$out"
}

# Turns the corpus' ndjson (with _id inside each document) into a _bulk body.
to_bulk() {
    jq -c --arg index "$1" '{index: {_index: $index, _id: ._id}}, del(._id)'
}
