#!/usr/bin/env bash
# Conformance of /graphql to GraphQL over HTTP: starts bin/casegraph on an
# empty SQLite data directory and a free loopback port, with development
# tokens, runs graphql-http's server audits (audit.mjs) with a token, and
# stops the server. Exit status: the audit's (non-zero on any failed audit),
# and 1 if the server exited before the script stopped it.
#   scripts/conformance/run.sh [path/to/casegraph]     (make conformance)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "${1:-bin/casegraph}")
say() { echo "conformance: $*" >&2; }
# shellcheck source=scripts/servers.sh
. "$here/../servers.sh"

if [ ! -d "$here/node_modules/graphql-http" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

data=$(mktemp -d)
# shellcheck disable=SC2317 # run by the EXIT trap (shellcheck 0.9 misses it before a last exit)
cleanup() {
  server_stop casegraph || true # still running, only (scripts/servers.sh)
  rm -rf "$data"
}
trap cleanup EXIT

# A port free a moment ago, on loopback only.
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
export CASEGRAPH_DATA_DIR="$data" CASEGRAPH_DEV=1 CASEGRAPH_ADDR="127.0.0.1:$port" CASEGRAPH_LOG_LEVEL=warn
unset DATABASE_URL
"$bin" migrate >/dev/null
"$bin" seed --agencies >/dev/null
"$bin" serve >"$data/serve.log" 2>&1 &
server_started casegraph $!
ready=
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && { ready=1; break; }
  server_running casegraph || { server_ended casegraph; say "casegraph serve did not become ready: $server_how:"; cat "$data/serve.log" >&2; exit 1; }
  sleep 0.1
done
# Audits of a server that never answered /readyz would fail for a reason
# they cannot name: say so instead.
[ -n "$ready" ] || { say "casegraph serve still not ready after 10 s:"; cat "$data/serve.log" >&2; exit 1; }
token=$("$bin" token --subject conformance --agency police-tirane --role investigator --ttl 10m)
status=0
CASEGRAPH_TOKEN="$token" node "$here/audit.mjs" "http://127.0.0.1:$port/graphql" || status=$?
# A server that exited during the audits fails the run, whatever they said.
if ! server_stop casegraph; then
  cat "$data/serve.log" >&2
  [ "$status" != 0 ] || status=1
fi
exit "$status"
