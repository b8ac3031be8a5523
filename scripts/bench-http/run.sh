#!/usr/bin/env bash
# make bench-http: CaseGraph's dashboard page over real HTTP under wrk, on
# PostgreSQL and on the embedded SQLite file, for each arm of arms.tsv and
# each number of connections; prints one table (docs/benchmark-http.md).
#
# Settings (environment):
#   CONNECTIONS  "1 4 16 64"        connections of each run (wrk -c)
#   DURATION     15                 seconds measured per run ("15s" too)
#   WARMUP       3                  seconds of load before each run, not measured (0: none)
#   DATABASES    "postgres sqlite"  which databases
#   ARMS         "nolegal refused allowed"  which arms of arms.tsv
#   SCALE, TODAY 40, 2026-12-01     the demo data (casegraph seed --demo --scale --today)
#   FRESH        0                  1: seed again even when the data is already there
#   CASEGRAPH    bin/casegraph      the server binary (make bench-http builds it)
#   BENCH_DIR    data/bench-http    the SQLite file, signing keys, logs, request bodies
#   POSTGRES_SERVER  postgres://postgres@127.0.0.1:5432  (its database postgres is used to create BENCH_DATABASE)
#   BENCH_DATABASE   casegraph_bench  the PostgreSQL database, created, seeded, and dropped
#                    when seeded differently: it is the benchmark's own
#   PORT 8090, POSTGRAPHILE_PORT 5679, THREADS 1 (wrk threads; the load generator shares the CPUs)
#   PEERS_DIR    unset              a PostGraphile harness (start-postgraphile.sh): adds its rows
#                                   on the PostgreSQL database, measured in the same run
#   FLOOR        0                  1: adds the rows of the floor (scripts/bench-http/floor, the allowed
#                                   page compiled by hand) on the PostgreSQL database, port FLOOR_PORT 8091
# Needs: wrk, curl, jq, psql (for PostgreSQL).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

CONNECTIONS=${CONNECTIONS:-"1 4 16 64"}
DURATION=${DURATION:-15}
DURATION=${DURATION%s}
WARMUP=${WARMUP:-3}
WARMUP=${WARMUP%s}
DATABASES=${DATABASES:-"postgres sqlite"}
ARMS=${ARMS:-"nolegal refused allowed"}
SCALE=${SCALE:-40}
TODAY=${TODAY:-2026-12-01}
FRESH=${FRESH:-0}
CASEGRAPH=${CASEGRAPH:-$root/bin/casegraph}
BENCH_DIR=${BENCH_DIR:-$root/data/bench-http}
POSTGRES_SERVER=${POSTGRES_SERVER:-postgres://postgres@127.0.0.1:5432}
BENCH_DATABASE=${BENCH_DATABASE:-casegraph_bench}
PORT=${PORT:-8090}
POSTGRAPHILE_PORT=${POSTGRAPHILE_PORT:-5679}
THREADS=${THREADS:-1}
PEERS_DIR=${PEERS_DIR:-}
FLOOR=${FLOOR:-0}
FLOOR_PORT=${FLOOR_PORT:-8091}

admin_url="$POSTGRES_SERVER/postgres?sslmode=disable"
bench_url="$POSTGRES_SERVER/$BENCH_DATABASE?sslmode=disable"
seeded_as="casegraph seed --demo --scale $SCALE --today $TODAY"
casegraph_url="http://127.0.0.1:$PORT"
rows=$(mktemp)

say() { echo "bench-http: $*" >&2; }
fail() { say "$*"; exit 1; }
# shellcheck source=scripts/servers.sh
. "$root/scripts/servers.sh"

for tool in wrk curl jq; do
  command -v "$tool" >/dev/null || fail "$tool is needed and not installed (apt-get install $tool)"
done
case " $DATABASES " in *" postgres "*) command -v psql >/dev/null || fail "psql is needed for the PostgreSQL database" ;; esac
[ -x "$CASEGRAPH" ] || fail "no server binary at $CASEGRAPH: run make build (or set CASEGRAPH)"
[[ $BENCH_DATABASE =~ ^[a-z_][a-z0-9_]*$ ]] || fail "BENCH_DATABASE must be a plain lower-case name"
mkdir -p "$BENCH_DIR"

# Every server this script started is stopped however it ends, if it
# still runs (scripts/servers.sh: casegraph, floor, postgraphile).
cleanup() {
  server_stop casegraph || true
  server_stop floor || true
  stop_postgraphile || true
  rm -f "$rows"
}
trap cleanup EXIT

# The data directory and database URL of each database ("" is SQLite).
data_dir() { echo "$BENCH_DIR/$1"; }
database_url() { if [ "$1" = postgres ]; then echo "$bench_url"; fi; }

casegraph() { # DATABASE ARGS...: run the casegraph command on DATABASE
  local db=$1
  shift
  env DATABASE_URL="$(database_url "$db")" CASEGRAPH_DATA_DIR="$(data_dir "$db")" CASEGRAPH_DEV=1 "$CASEGRAPH" "$@"
}

# Seeding takes minutes at scale 40, so a database seeded the same way is
# reused: PostgreSQL's carries the seed command as its comment, the SQLite
# file a file beside it. The mark is written last: an interrupted seed is
# not reused.
prepare_postgres() {
  local mark
  mark=$(psql "$admin_url" -XAtqc "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = '$BENCH_DATABASE'")
  if [ "$FRESH" != 1 ] && [ "$mark" = "$seeded_as" ]; then
    say "postgres: reusing $BENCH_DATABASE ($seeded_as)"
    # A newer binary may bring migrations (a standing table filled from
    # the rows already there): the data stays, the schema follows.
    casegraph postgres migrate >&2
    return
  fi
  say "postgres: seeding $BENCH_DATABASE ($seeded_as; minutes)"
  psql "$admin_url" -XAtq -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $BENCH_DATABASE WITH (FORCE)" -c "CREATE DATABASE $BENCH_DATABASE"
  mkdir -p "$(data_dir postgres)"
  casegraph postgres migrate >&2
  casegraph postgres seed --demo --scale "$SCALE" --today "$TODAY" >&2
  psql "$admin_url" -XAtq -v ON_ERROR_STOP=1 -c "COMMENT ON DATABASE $BENCH_DATABASE IS '$seeded_as'"
}

prepare_sqlite() {
  local dir mark
  dir=$(data_dir sqlite)
  mark=$(cat "$dir/seeded-as" 2>/dev/null || true)
  if [ "$FRESH" != 1 ] && [ "$mark" = "$seeded_as" ]; then
    say "sqlite: reusing $dir ($seeded_as)"
    casegraph sqlite migrate >&2
    return
  fi
  say "sqlite: seeding $dir ($seeded_as; minutes)"
  rm -rf "$dir"
  mkdir -p "$dir"
  casegraph sqlite migrate >&2
  casegraph sqlite seed --demo --scale "$SCALE" --today "$TODAY" >&2
  echo "$seeded_as" >"$dir/seeded-as"
}

wait_for() { # URL SERVER: wait until URL answers, while the server runs
  for _ in $(seq 1 120); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    server_running "$2" || return 1
    sleep 0.5
  done
  return 1
}

# not_started SERVER LOG WHAT: the server did not start; says how it ended
# if it has, with the end of its log, and fails.
not_started() {
  if ! server_running "$1"; then server_ended "$1"; say "$server_how"; fi
  tail -20 "$2" >&2
  fail "$3 (log: $2)"
}

# still_running SERVER WHAT: fails, loudly, unless the server still runs:
# the figures of one that exited during a run (and whatever now has its
# pid) are not the server's.
still_running() {
  server_running "$1" && return 0
  server_ended "$1"
  fail "$2: during the benchmark, $server_how: no table (its figures would not be the server's)"
}

# after_wrk_failed SERVER WHAT: wrk failed, most often because the server
# is gone; one on its way out (its port closed, its process not yet ended)
# is given five seconds to end, so that how it ended is what is said
# (a loaded CI machine once reported only that wrk failed).
after_wrk_failed() {
  for _ in $(seq 1 50); do
    server_running "$1" || break
    sleep 0.1
  done
  still_running "$1" "$2"
}

start_casegraph() { # DATABASE
  local log="$BENCH_DIR/serve-$1.log"
  # Another server on the port would answer in its place.
  ! curl -fsS -o /dev/null "$casegraph_url/healthz" 2>/dev/null || fail "something already answers on $casegraph_url: set PORT"
  # No rate limit, nor cost limit with it: a load test is one client
  # asking as fast as it can.
  env DATABASE_URL="$(database_url "$1")" CASEGRAPH_DATA_DIR="$(data_dir "$1")" CASEGRAPH_DEV=1 \
    CASEGRAPH_RATE_LIMIT=0 CASEGRAPH_ADDR="127.0.0.1:$PORT" "$CASEGRAPH" serve >"$log" 2>&1 &
  server_started casegraph $!
  wait_for "$casegraph_url/readyz" casegraph || not_started casegraph "$log" "$1: casegraph serve did not become ready"
  say "$1: casegraph serve pid ${server_pid[casegraph]} on $casegraph_url"
}

# The floor answers the allowed arm's page as its principal only
# (docs/performance.md, "The floor"); it makes its own audit tables in
# the benchmark's database.
start_floor() {
  local log="$BENCH_DIR/floor.log"
  (cd "$root" && go build -o "$BENCH_DIR/floor" ./scripts/bench-http/floor) || fail "building the floor failed"
  # Emptied here, not by the background command's redirection, which may
  # come after the first look: the last run's line would pass for this one's.
  : >"$log"
  env FLOOR_DATABASE_URL="$bench_url" ADDR="127.0.0.1:$FLOOR_PORT" AGENCY="$(arm_line allowed | cut -d' ' -f2)" \
    "$BENCH_DIR/floor" >"$log" 2>&1 &
  server_started floor $!
  for _ in $(seq 1 60); do
    grep -q "floor: the allowed page" "$log" && return 0
    server_running floor || break
    sleep 0.5
  done
  not_started floor "$log" "the floor did not start"
}

# PostGraphile is the harness's child, not this script's: the harness
# writes its pid to a file and stops it by that file.
peer_pidfile() { echo "$PEERS_DIR/data/postgraphile.pid"; }

start_postgraphile() {
  [ -x "$PEERS_DIR/start-postgraphile.sh" ] || fail "PEERS_DIR=$PEERS_DIR has no start-postgraphile.sh"
  DATABASE_URL=$bench_url PORT=$POSTGRAPHILE_PORT "$PEERS_DIR/start-postgraphile.sh" >&2
  peer_pid=$(cat "$(peer_pidfile)")
  server_started postgraphile "$peer_pid" other
}

# stop_postgraphile: the harness stops PostGraphile while it is still the
# process this script had it start. Once it has exited, the harness's
# stop would signal whatever now has the pid in its file: the file is
# removed instead (if it still names that pid), and this fails, saying so
# unless still_running has.
peer_pid=
stop_postgraphile() {
  local pid=$peer_pid
  [ -n "$pid" ] || return 0
  peer_pid=
  if server_running postgraphile; then
    "$PEERS_DIR/start-postgraphile.sh" stop >&2
    server_forget postgraphile
    return 0
  fi
  [ "$(cat "$(peer_pidfile)" 2>/dev/null)" != "$pid" ] || rm -f "$(peer_pidfile)"
  if [ -n "${server_pid[postgraphile]+set}" ]; then
    server_ended postgraphile
    say "$server_how before this script stopped it"
  fi
  return 1
}

# The request body of a query file: {"query": <its text>}.
body_of() { # QUERY_FILE NAME
  local body="$BENCH_DIR/body-$2.json"
  jq -Rs '{query: .}' "$1" >"$body"
  echo "$body"
}

# The line of arms.tsv for ARM: query, agency, role, expect.
arm_line() {
  awk -F'\t' -v arm="$1" '$1 == arm { print $2, $3, $4, $5; found = 1 } END { exit !found }' "$here/arms.tsv" ||
    fail "no arm $1 in arms.tsv"
}

# answer_ok EXPECT FILE: the rule graphql-post.lua applies to every answer.
answer_ok() {
  case "$1" in
    clean) ! grep -q '"errors"' "$2" && grep -q '"data"' "$2" ;;
    refused) grep -q '"FORBIDDEN"' "$2" ;;
  esac
}

# One request before the load: the arm must answer what it claims, or
# its figures would describe something else.
preflight() { # LABEL URL BODY EXPECT TOKEN
  local out="$BENCH_DIR/preflight.json" code
  code=$(curl -sS -o "$out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    ${5:+-H "Authorization: Bearer $5"} --data-binary @"$3" "$2")
  if [ "$code" != 200 ] || ! answer_ok "$4" "$out"; then
    head -c 600 "$out" >&2
    fail "$1: the first answer is not what the arm expects ($4, HTTP $code)"
  fi
}

# The statements and /graphql requests the server has counted; "- -"
# from a server without the statement counter (an older binary).
counters() {
  curl -fsS "$casegraph_url/metrics" | awk '
    /^casegraph_sql_statements_total / { s = $2 }
    /^casegraph_http_request_duration_seconds_count\{method="POST",route="\/graphql"\} / { r = $2 }
    END { if (s == "" || r == "") print "- -"; else printf "%.0f %.0f\n", s, r }'
}

# settle waits until the server has finished what it was sent (requests
# wrk gave up on still run on the server) and prints its counters then:
# the same counters a second apart, up to 30 s.
settle() {
  local last now
  last=$(counters)
  for _ in $(seq 1 30); do
    sleep 1
    now=$(counters)
    [ "$now" = "$last" ] && break
    last=$now
  done
  echo "$last"
}

load() { # URL BODY EXPECT TOKEN CONNECTIONS SECONDS
  local threads=$THREADS
  [ "$threads" -le "$5" ] || threads=$5
  wrk -t "$threads" -c "$5" -d "$6s" --timeout 10s -s "$here/graphql-post.lua" "$1" -- "$2" "$3" "$4"
}

# cpu_ticks PID: the CPU time (user and system, in clock ticks) the process
# has used so far (proc(5), /proc/PID/stat fields 14 and 15).
cpu_ticks() {
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# postgres_ticks: the CPU time of the local PostgreSQL server, every process
# of it (backends, WAL writer, checkpointer), and the backends that have
# exited (the postmaster's waited-for children, fields 16 and 17); "-" when
# the server is not on this machine. It counts other databases' work too:
# measure on a quiet server.
postgres_ticks() {
  case "$POSTGRES_SERVER" in
    *@127.0.0.1:* | *@localhost:* | *@\[::1\]:* | *@127.0.0.1 | *@localhost | *@\[::1\]) ;;
    *) echo -; return ;;
  esac
  local pids stats roots
  pids=$(pgrep -x postgres | tr '\n' ' ')
  [ -n "$pids" ] || { echo -; return; }
  stats=$(for p in $pids; do cat "/proc/$p/stat" 2>/dev/null || true; done)
  # The postmaster (a process whose parent is not one of them) is read
  # again last: read first, a backend that exited and was reaped between
  # its listing and its own read was in neither its stat nor the
  # postmaster's children's times, and the total went backwards on a busy
  # server (CI, other tests' databases coming and going). Read last, such
  # a backend is counted once; one reaped after its own read, twice.
  roots=$(echo "$stats" | awk -v pids=" $pids" 'index(pids, " " $4 " ") == 0 { printf " %s", $1 }')
  {
    echo "$stats" | awk -v roots="$roots " 'index(roots, " " $1 " ") == 0'
    for p in $roots; do cat "/proc/$p/stat" 2>/dev/null || true; done
  } | awk -v pids=" $pids" '
    { t += $14 + $15; if (index(pids, " " $4 " ") == 0) t += $16 + $17 }
    END { print t }'
}

# measure DATABASE ARM URL BODY EXPECT TOKEN SERVER CONNECTIONS COUNTS:
# one row of the table. SERVER: casegraph, floor or postgraphile (its
# pid's /proc files are read). COUNTS=1: the server is CaseGraph, whose
# /metrics gives statements per request.
measure() {
  local db=$1 arm=$2 url=$3 body=$4 expect=$5 token=$6 server=$7 conns=$8 counts=$9
  local pid=${server_pid[$7]:-} what="$1 $2, $8 connections" before after result rss stmts=- cpu0 cpu1 pg0=- pg1=-
  say "$db $arm: $conns connections, ${DURATION}s"
  # wrk fails where it cannot connect: a server that has exited is said so.
  if [ "$WARMUP" -gt 0 ]; then
    load "$url" "$body" any "$token" "$conns" "$WARMUP" >/dev/null || { after_wrk_failed "$server" "$what"; fail "$what: wrk failed in the warm-up"; }
  fi
  # Requests of the warm-up finish before the measured seconds begin.
  if [ "$counts" = 1 ]; then before=$(settle); else sleep 1; fi
  # The server's /proc files are read only while it runs, and it is
  # looked at again after: running then, it ran through the reads.
  still_running "$server" "$what"
  # Peak memory of this run alone: 5 resets the process's VmHWM
  # (proc(5), clear_refs); where refused, VmHWM is the peak since start.
  echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || say "cannot reset the peak RSS of $pid: the column is the peak since it started"
  cpu0=$(cpu_ticks "$pid")
  [ "$db" = postgres ] && pg0=$(postgres_ticks)
  result=$(load "$url" "$body" "$expect" "$token" "$conns" "$DURATION" | grep '^result ') ||
    { after_wrk_failed "$server" "$what"; fail "$db $arm: wrk printed no result"; }
  still_running "$server" "$what"
  rss=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")
  if [ "$counts" = 1 ]; then
    after=$(settle)
    stmts=$(echo "$before $after" | awk '$1 == "-" || $3 == "-" { print "-"; next } { r = $4 - $2; if (r > 0) printf "%.1f", ($3 - $1) / r; else print "-" }')
  else
    sleep 1 # the requests wrk left in flight end
  fi
  still_running "$server" "$what"
  # CPU a request: what the server (and PostgreSQL) used from the measured
  # seconds' start until their requests ended, over the requests wrk counted.
  cpu1=$(cpu_ticks "$pid")
  [ "$db" = postgres ] && pg1=$(postgres_ticks)
  still_running "$server" "$what"
  # result requests=N seconds=S p50_ms=X p99_ms=Y non2xx=A socket_errors=B wrong_answers=C
  case "$result" in
    *" non2xx=0 socket_errors=0 wrong_answers=0") ;;
    *) say "$db $arm, $conns connections: errors: non2xx=${result#* non2xx=}" ;;
  esac
  # shellcheck disable=SC2086 # the lists of DATABASES and ARMS, split into words
  echo "$result" | awk -v db="$db" -v arm="$arm" -v conns="$conns" -v rss="$rss" -v stmts="$stmts" \
    -v cpu="$((cpu1 - cpu0))" -v pg0="$pg0" -v pg1="$pg1" -v hz="$(getconf CLK_TCK)" \
    -v dbi="$(index_of "$db" $DATABASES)" -v armi="$(index_of "$arm" $ARMS floor postgraphile)" '
    function per_request(ticks) { return v["requests"] > 0 ? sprintf("%.2f", ticks * 1000 / hz / v["requests"]) : "-" }
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END {
      pg = (pg0 == "-" || pg1 == "-") ? "-" : per_request(pg1 - pg0)
      printf "%d\t%d\t%d\t%s\t%s\t%d\t%.1f\t%.1f\t%.1f\t%d\t%s\t%s\t%s\t%s\n", dbi, armi, conns, db, arm, conns,
        v["requests"] / v["seconds"], v["p50_ms"], v["p99_ms"], v["non2xx"] + v["socket_errors"] + v["wrong_answers"], rss, stmts,
        per_request(cpu), pg
    }' >>"$rows"
}

index_of() { # WORD LIST...: the position of WORD in LIST, for the table's order
  local word=$1 i=0
  shift
  for w in "$@"; do
    i=$((i + 1))
    [ "$w" = "$word" ] && { echo "$i"; return; }
  done
  echo 0
}

for db in $DATABASES; do
  case "$db" in
    postgres) prepare_postgres ;;
    sqlite) prepare_sqlite ;;
    *) fail "DATABASES: $db is neither postgres nor sqlite" ;;
  esac
  start_casegraph "$db"
  declare -A bodies=() expects=() tokens=()
  for arm in $ARMS; do
    read -r query agency role expect <<<"$(arm_line "$arm")"
    bodies[$arm]=$(body_of "$here/$query" "$arm")
    expects[$arm]=$expect
    tokens[$arm]=$(casegraph "$db" token --subject "bench-$arm" --agency "$agency" --role "$role" --ttl 12h 2>>"$BENCH_DIR/token.log") ||
      fail "$db $arm: casegraph token failed (see $BENCH_DIR/token.log)"
    preflight "$db $arm" "$casegraph_url/graphql" "${bodies[$arm]}" "$expect" "${tokens[$arm]}"
  done
  peer_body=
  if [ "$db" = postgres ] && [ -n "$PEERS_DIR" ]; then
    start_postgraphile
    peer_body=$(body_of "$here/postgraphile-dashboard.graphql" postgraphile)
    preflight "postgres postgraphile" "http://127.0.0.1:$POSTGRAPHILE_PORT/graphql" "$peer_body" clean ""
  fi
  floor_body=
  if [ "$db" = postgres ] && [ "$FLOOR" = 1 ]; then
    start_floor
    floor_body=$(body_of "$here/$(arm_line allowed | cut -d' ' -f1)" floor)
    preflight "postgres floor" "http://127.0.0.1:$FLOOR_PORT/graphql" "$floor_body" clean ""
  fi
  # Arms alternate within each number of connections, PostGraphile among
  # them, so that a slow spell of the machine does not fall on one arm.
  for conns in $CONNECTIONS; do
    for arm in $ARMS; do
      measure "$db" "$arm" "$casegraph_url/graphql" "${bodies[$arm]}" "${expects[$arm]}" "${tokens[$arm]}" casegraph "$conns" 1
    done
    if [ -n "$floor_body" ]; then
      measure "$db" floor "http://127.0.0.1:$FLOOR_PORT/graphql" "$floor_body" clean "" floor "$conns" 0
    fi
    if [ -n "$peer_body" ]; then
      measure "$db" postgraphile "http://127.0.0.1:$POSTGRAPHILE_PORT/graphql" "$peer_body" clean "" postgraphile "$conns" 0
    fi
  done
  # A server that exited after its last run still fails the benchmark:
  # it crashed under the load just measured.
  server_stop casegraph || fail "$db: no table (a server measured exited on its own)"
  server_stop floor || fail "$db: no table (a server measured exited on its own)"
  stop_postgraphile || fail "$db: no table (a server measured exited on its own)"
done

echo "| database | arm | connections | requests/s | p50 ms | p99 ms | errors | server RSS peak MiB | SQL statements/request | server CPU ms/request | PostgreSQL CPU ms/request |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
sort -t$'\t' -k1,1n -k2,2n -k3,3n "$rows" | cut -f4- | awk -F'\t' -v OFS=' | ' '{ $1 = $1; print "| " $0 " |" }'
