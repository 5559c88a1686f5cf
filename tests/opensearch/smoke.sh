#!/usr/bin/env bash
# Smoke test of scripts/opensearch: one node on free ports, the debian mapping, 100 documents.
#   tests/opensearch/smoke.sh          (exit 0 when every check passes)
set -euo pipefail
export TEST_NAME=opensearch-smoke
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_debian_data

STATE=$(mktemp -d "${TMPDIR:-/tmp}/opensearch-smoke.XXXXXX")
NAME=smoke-$$
cleanup() {
    "$OPENSEARCH" stop --name "$NAME" --state-dir "$STATE" || true
    rm -rf "$STATE"
}
trap cleanup EXIT

pick_ports 1
say "starting one node on http $HTTP_PORT, transport $TRANSPORT_PORT"
t0=$SECONDS
URL=$("$OPENSEARCH" start --nodes 1 --name "$NAME" --state-dir "$STATE" \
    --http-port "$HTTP_PORT" --transport-port "$TRANSPORT_PORT" --heap 512m)
say "green after $((SECONDS - t0))s at $URL"
check "start prints the node URL" "http://127.0.0.1:$HTTP_PORT" "$URL"

check "version is 2.19.6" "2.19.6" "$(es GET / | jq -r .version.number)"
check "health is green" "green" "$(es GET /_cluster/health | jq -r .status)"
check "status exits 0 while running" "0" "$("$OPENSEARCH" status --name "$NAME" --state-dir "$STATE" >/dev/null; echo $?)"

check "create index debian" "true" \
    "$(es PUT /debian -H 'Content-Type: application/json' --data-binary "@$MAPPING" | jq -r .acknowledged)"

{ xzcat "$CORPUS" || true; } | head -n 100 | to_bulk debian >"$STATE/bulk.ndjson"
check "bulk of 100 documents has no errors" "false 100" \
    "$(es POST /_bulk -H 'Content-Type: application/x-ndjson' --data-binary "@$STATE/bulk.ndjson" \
        | jq -r '"\(.errors) \(.items | length)"')"
es POST /debian/_refresh >/dev/null
check "_count is 100" "100" "$(es GET /debian/_count | jq -r .count)"
check "term query on a keyword finds the document" "bookworm/1oom/1.0-2/amd64" \
    "$(es GET '/debian/_search?q=package:1oom' | jq -r '.hits.hits[0]._id')"
check "painless script query matches all 100" "100" \
    "$(es POST /debian/_search -H 'Content-Type: application/json' --data-binary \
        '{"size":0,"track_total_hits":true,"query":{"script":{"script":"doc['"'"'dependency_count'"'"'].value >= 0"}}}' \
        | jq -r .hits.total.value)"

"$OPENSEARCH" stop --name "$NAME" --state-dir "$STATE"
check "no node answers after stop" "down" "$(curl -s --max-time 2 "$URL/" >/dev/null && echo up || echo down)"
check "status exits 3 after stop" "3" "$("$OPENSEARCH" status --name "$NAME" --state-dir "$STATE" >/dev/null; echo $?)"

summary
