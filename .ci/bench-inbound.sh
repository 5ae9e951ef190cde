#!/usr/bin/env bash
# Measures durable webhook ingest with `switchboard bench inbound` on SQLite and
# PostgreSQL, with the release build, daemon and load generator on this machine.
# Not part of CI (benchmarks are not tests). Usage: .ci/bench-inbound.sh [duration]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}"
DURATION=${1:-10s}
PG=${SWITCHBOARD_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_SERVER=${PG%/*}
# BIN=path runs another build (e.g. to compare two commits in one sitting)
if [[ -z ${BIN:-} ]]; then
	cargo build --release -p switchboard -q
	BIN=$CARGO_TARGET_DIR/release/switchboard
fi
PORT=18080
PHONE=106540352242922
SECRET=bench-app-secret
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

run_backend() {
	local name=$1 url=$2
	echo "==> $name"
	export SWITCHBOARD__DATABASE__URL=$url SWITCHBOARD__SERVER__PORT=$PORT SWITCHBOARD__LOG__LEVEL=warn \
		SWITCHBOARD__SERVER__DATA_DIR=$work/data SWITCHBOARD__AUTH__LOGIN_ATTEMPTS_PER_IP_PER_MINUTE=1000
	SWITCHBOARD_ADMIN_PASSWORD=bench-password-123 "$BIN" admin create --tenant "Bench $name" --email "bench-$name@example.com" >/dev/null
	"$BIN" serve &
	local pid=$!
	for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
	local token
	token=$(curl -s "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json' \
		-d "{\"query\":\"mutation{login(email:\\\"bench-$name@example.com\\\",password:\\\"bench-password-123\\\"){token}}\"}" |
		python3 -c 'import sys,json; print(json.load(sys.stdin)["data"]["login"]["token"])')
	curl -s "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json' -H "authorization: Bearer $token" \
		-d "{\"query\":\"mutation{addWhatsAppNumber(input:{phoneNumberId:\\\"$PHONE\\\",wabaId:\\\"1\\\",displayPhoneNumber:\\\"+1 555 0100\\\",accessToken:\\\"t\\\",appSecret:\\\"$SECRET\\\",verifyToken:\\\"v\\\"}){id}}\"}" >/dev/null
	local common=(--url "http://127.0.0.1:$PORT/webhooks/whatsapp" --app-secret "$SECRET" --duration "$DURATION")
	echo "-- unknown phone number (parse + verify-free ack, no database): the HTTP ceiling"
	"$BIN" bench inbound "${common[@]}" --phone-number-id 999 --rate max --connections 64 --no-verify
	echo "-- durable, as fast as acknowledged"
	"$BIN" bench inbound "${common[@]}" --phone-number-id $PHONE --rate max --connections 64 --database-url "$url"
	echo "-- durable at 5000/s"
	"$BIN" bench inbound "${common[@]}" --phone-number-id $PHONE --rate 5000 --connections 64 --database-url "$url"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

run_backend sqlite "sqlite://$work/bench.db?mode=rwc"
db=sb_bench_$$
psql "$PG" -qc "CREATE DATABASE $db"
run_backend postgres "$PG_SERVER/$db"
psql "$PG" -qc "DROP DATABASE $db WITH (FORCE)"
