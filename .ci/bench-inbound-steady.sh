#!/usr/bin/env bash
# Steady-state PostgreSQL ingest benchmark: one kept database that already
# holds the benchmark's contacts and conversations (a warm-up run, then
# VACUUM ANALYZE), the daemon restarted for every run, as in production where
# tables are analyzed. Not part of CI. Usage: .ci/bench-inbound-steady.sh [duration]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}"
DURATION=${1:-10s}
PG=${SWITCHBOARD_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_SERVER=${PG%/*}
DB=sb_bench_steady
URL=$PG_SERVER/$DB
# BIN=path runs another build (e.g. to compare two commits in one sitting)
if [[ -z ${BIN:-} ]]; then
	cargo build --release -p switchboard -q
	BIN=$CARGO_TARGET_DIR/release/switchboard
fi
PORT=18081
PHONE=106540352242922
SECRET=bench-app-secret
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export SWITCHBOARD__DATABASE__URL=$URL SWITCHBOARD__SERVER__PORT=$PORT SWITCHBOARD__LOG__LEVEL=warn \
	SWITCHBOARD__SERVER__DATA_DIR=$work/data SWITCHBOARD__AUTH__LOGIN_ATTEMPTS_PER_IP_PER_MINUTE=1000

psql "$PG" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
psql "$PG" -qc "CREATE DATABASE $DB"
SWITCHBOARD_ADMIN_PASSWORD=bench-password-123 "$BIN" admin create --tenant Bench --email bench@example.com >/dev/null

# where the writer's time went (switchboard_ingest_step_seconds), per batch
steps() {
	{ curl -sf "http://127.0.0.1:$PORT/metrics" || true; } | python3 -c '
import re, sys
sums, counts = {}, {}
for line in sys.stdin:
    m = re.match(r"switchboard_ingest_step_seconds_(sum|count)\{step=\"(\w+)\"\} (\S+)", line)
    if m:
        (sums if m[1] == "sum" else counts)[m[2]] = float(m[3])
total = sum(sums.values()) or 1
print("   writer time per batch: " + ", ".join(
    f"{k} {sums[k] / max(counts[k], 1) * 1e3:.2f} ms ({sums[k] / total:.0%})"
    for k in sorted(sums, key=lambda k: -sums[k]) if sums[k] / total >= 0.01))
'
}

run() {
	"$BIN" serve &
	local pid=$!
	for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
	"$BIN" bench inbound --url "http://127.0.0.1:$PORT/webhooks/whatsapp" --app-secret "$SECRET" \
		--phone-number-id $PHONE --database-url "$URL" --duration "$DURATION" "$@"
	steps
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

# register the number once
"$BIN" serve &
pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
token=$(curl -s "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json' \
	-d '{"query":"mutation{login(email:\"bench@example.com\",password:\"bench-password-123\"){token}}"}' |
	python3 -c 'import sys,json; print(json.load(sys.stdin)["data"]["login"]["token"])')
curl -s "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json' -H "authorization: Bearer $token" \
	-d "{\"query\":\"mutation{addWhatsAppNumber(input:{phoneNumberId:\\\"$PHONE\\\",wabaId:\\\"1\\\",displayPhoneNumber:\\\"+1 555 0100\\\",accessToken:\\\"t\\\",appSecret:\\\"$SECRET\\\",verifyToken:\\\"v\\\"}){id}}\"}" >/dev/null
kill "$pid"
wait "$pid" 2>/dev/null || true

echo "-- warm-up (fills contacts and conversations)"
run --rate max --connections 64 >/dev/null
psql "$PG_SERVER/$DB" -qc "VACUUM ANALYZE"
echo "-- durable, as fast as acknowledged, 64 connections"
run --rate max --connections 64
echo "-- durable, as fast as acknowledged, 128 connections"
run --rate max --connections 128
echo "-- durable at 5000/s, 128 connections"
run --rate 5000 --connections 128
psql "$PG" -qc "DROP DATABASE $DB WITH (FORCE)"
