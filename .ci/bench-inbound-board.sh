#!/usr/bin/env bash
# What a live tenant board costs ingest: every message from a new customer
# opens a conversation, whose events the tenant actor follows (one batched
# read per batch of them). Runs alternate without and with the board (a
# `queues` query starts the tenant actor), each on a fresh PostgreSQL
# database, so the ratio is measured in one run. Not part of CI.
# Usage: .ci/bench-inbound-board.sh [duration] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}"
DURATION=${1:-10s}
ROUNDS=${2:-2}
PG=${SWITCHBOARD_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_SERVER=${PG%/*}
DB=sb_bench_board
URL=$PG_SERVER/$DB
# BIN=path runs another build (e.g. to compare two commits in one sitting)
if [[ -z ${BIN:-} ]]; then
	cargo build --release -p switchboard -q
	BIN=$CARGO_TARGET_DIR/release/switchboard
fi
PORT=18082
GQL=http://127.0.0.1:$PORT/graphql
PHONE=106540352242922
SECRET=bench-app-secret
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export SWITCHBOARD__DATABASE__URL=$URL SWITCHBOARD__SERVER__PORT=$PORT SWITCHBOARD__LOG__LEVEL=warn \
	SWITCHBOARD__SERVER__DATA_DIR=$work/data SWITCHBOARD__AUTH__LOGIN_ATTEMPTS_PER_IP_PER_MINUTE=1000

start() {
	"$BIN" serve &
	pid=$!
	for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
	token=$(curl -s "$GQL" -H 'content-type: application/json' \
		-d '{"query":"mutation{login(email:\"bench@example.com\",password:\"bench-password-123\"){token}}"}' |
		python3 -c 'import sys,json; print(json.load(sys.stdin)["data"]["login"]["token"])')
}

gql() {
	curl -s "$GQL" -H 'content-type: application/json' -H "authorization: Bearer $token" -d "$1"
}

stop() {
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

# one measured run on a fresh database; $1 = off | on (the tenant board)
round() {
	psql "$PG" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
	psql "$PG" -qc "CREATE DATABASE $DB"
	SWITCHBOARD_ADMIN_PASSWORD=bench-password-123 "$BIN" admin create --tenant Bench --email bench@example.com >/dev/null
	start
	gql "{\"query\":\"mutation{addWhatsAppNumber(input:{phoneNumberId:\\\"$PHONE\\\",wabaId:\\\"1\\\",displayPhoneNumber:\\\"+1 555 0100\\\",accessToken:\\\"t\\\",appSecret:\\\"$SECRET\\\",verifyToken:\\\"v\\\"}){id}}\"}" >/dev/null
	if [[ $1 == on ]]; then
		gql '{"query":"{ queues { waiting } }"}' >/dev/null
	fi
	echo "-- tenant board $1: every message opens a conversation"
	"$BIN" bench inbound --url "http://127.0.0.1:$PORT/webhooks/whatsapp" --app-secret "$SECRET" \
		--phone-number-id $PHONE --database-url "$URL" --duration "$DURATION" \
		--rate max --connections 64 --contacts 9000000
	if [[ $1 == on ]]; then
		echo "   board after the run: $(gql '{"query":"{ queues { waiting } }"}')"
	fi
	stop
}

for _ in $(seq "$ROUNDS"); do
	round off
	round on
done
psql "$PG" -qc "DROP DATABASE $DB WITH (FORCE)"
