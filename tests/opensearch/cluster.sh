#!/usr/bin/env bash
# Three-node test of scripts/opensearch: the cluster forms green, survives kill -9 of a data
# node and of the elected cluster manager (kill-node), and the killed nodes rejoin (start-node).
#   tests/opensearch/cluster.sh        (exit 0 when every check passes)
set -euo pipefail
export TEST_NAME=opensearch-cluster
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_debian_data

STATE=$(mktemp -d "${TMPDIR:-/tmp}/opensearch-cluster.XXXXXX")
NAME=cluster-$$
OS() { "$OPENSEARCH" "$@" --name "$NAME" --state-dir "$STATE"; }
cleanup() {
    OS stop || true
    rm -rf "$STATE"
}
trap cleanup EXIT

pick_ports 3
say "starting three nodes on http $HTTP_PORT-$((HTTP_PORT + 2)), transport $TRANSPORT_PORT-$((TRANSPORT_PORT + 2))"
t0=$SECONDS
mapfile -t URLS < <(OS start --nodes 3 --http-port "$HTTP_PORT" --transport-port "$TRANSPORT_PORT" --heap 512m)
say "green after $((SECONDS - t0))s"
check "start prints three URLs" "3" "${#URLS[@]}"
URL=${URLS[0]}

health() { es GET "/_cluster/health?$1" | jq -r "$2"; }
check "three nodes, green" "green 3" "$(health '' '"\(.status) \(.number_of_nodes)"')"
check "_cat/nodes lists three nodes" "3" "$(es GET '/_cat/nodes?h=name' | grep -c "^$NAME-")"
check "status exits 0" "0" "$(OS status >/dev/null; echo $?)"

# 3 shards with one replica each, so any single node can go
jq '.settings.number_of_shards = 3 | .settings.number_of_replicas = 1' "$MAPPING" >"$STATE/mapping.json"
check "create index debian (3 shards, 1 replica)" "true" \
    "$(es PUT /debian -H 'Content-Type: application/json' --data-binary "@$STATE/mapping.json" | jq -r .acknowledged)"
{ xzcat "$CORPUS" || true; } | head -n 120 | to_bulk debian >"$STATE/all.ndjson"
head -n 200 "$STATE/all.ndjson" >"$STATE/first100.ndjson"
tail -n 40 "$STATE/all.ndjson" >"$STATE/last20.ndjson"
bulk() {
    es POST '/_bulk?refresh=true' -H 'Content-Type: application/x-ndjson' --data-binary "@$1" | jq -r .errors
}
check "bulk of 100 documents" "false" "$(bulk "$STATE/first100.ndjson")"
check "green with replicas" "green" "$(health 'wait_for_status=green&timeout=60s' .status)"
check "_count is 100" "100" "$(es GET /debian/_count | jq -r .count)"

# kill -9 a node that is not the cluster manager
manager_index() { es GET '/_cat/cluster_manager?h=node' | tr -d ' \n' | sed 's/.*-//'; }
MANAGER=$(manager_index)
VICTIM=$(( MANAGER % 3 + 1 ))
VICTIM_PID=$(sed -n 1p "$STATE/node-$VICTIM.pid")
say "cluster manager is node $MANAGER; kill -9 node $VICTIM (pid $VICTIM_PID)"
OS kill-node "$VICTIM"
URL=${URLS[MANAGER - 1]}
check "killed JVM is gone" "gone" "$(kill -0 "$VICTIM_PID" 2>/dev/null && echo alive || echo gone)"
check "status exits 1 with a node down" "1" "$(OS status >/dev/null; echo $?)"
check "cluster sees two nodes" "2" "$(health 'wait_for_nodes=2&timeout=60s' .number_of_nodes)"
check "no primary is lost (not red)" "not red" "$(health 'wait_for_status=yellow&timeout=60s' 'if .status == "red" then "red" else "not red" end')"
check "_count is still 100" "100" "$(es GET /debian/_count | jq -r .count)"
check "writes go on with a node down" "false" "$(bulk "$STATE/last20.ndjson")"

t1=$SECONDS
check "start-node brings node $VICTIM back" "${URLS[VICTIM - 1]}" "$(OS start-node "$VICTIM")"
say "node $VICTIM back and cluster green after $((SECONDS - t1))s"
URL=${URLS[VICTIM - 1]}
check "three nodes, green again" "green 3" "$(health '' '"\(.status) \(.number_of_nodes)"')"
check "_count is 120 through the restarted node" "120" "$(es GET /debian/_count | jq -r .count)"

# kill -9 the elected cluster manager: the other two elect a new one
say "kill -9 the cluster manager, node $MANAGER"
OS kill-node "$MANAGER"
check "two nodes left after losing the manager" "2" "$(health 'wait_for_nodes=2&timeout=60s' .number_of_nodes)"
NEW_MANAGER=$(manager_index)
check "a new cluster manager is elected" "yes" "$([[ -n "$NEW_MANAGER" && "$NEW_MANAGER" != "$MANAGER" ]] && echo yes || echo "no ($NEW_MANAGER)")"
check "_count is still 120" "120" "$(es GET /debian/_count | jq -r .count)"
check "start-node brings node $MANAGER back" "${URLS[MANAGER - 1]}" "$(OS start-node "$MANAGER")"
check "three nodes, green at the end" "green 3" "$(health '' '"\(.status) \(.number_of_nodes)"')"

PIDS=$(cat "$STATE"/node-*.pid)
OS stop
alive=0
for p in $PIDS; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
check "stop ends every node" "0" "$alive"

summary
