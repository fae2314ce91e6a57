#!/usr/bin/env bash
# Starts the demo stack, waits for PostgreSQL, backs the project up into ./backups and lists the sets.
set -euo pipefail
cd "$(dirname "$0")/../.."
compose=(docker-compose -p demo -f examples/demo/compose.yaml)
command -v docker-compose > /dev/null || compose=(docker compose -p demo -f examples/demo/compose.yaml)
"${compose[@]}" up -d
echo "waiting for PostgreSQL…" >&2
for _ in $(seq 1 120); do
	"${compose[@]}" exec -T db psql -h 127.0.0.1 -U demo -d demo -tAc 'select 1' > /dev/null 2>&1 && break
	sleep 1
done
bin=./dist/sdbackup
[ -x "$bin" ] || bin="node_modules/.bin/node src/main.ts"
$bin backup --app demo --target ./backups
$bin list --target ./backups
echo "restore with: $bin restore --app demo --target ./backups --yes" >&2
