# shellcheck shell=bash
# The servers a script starts in the background, signalled only while they
# are still the processes it started. Sourced (bash) by
# scripts/bench-http/run.sh and scripts/conformance/run.sh, which define
# say (a message on standard error) first.
#
# A pid names a server only while the server runs: once it has exited and
# its parent has reaped it, the kernel may give the number to any new
# process, and `kill $pid` then signals a stranger (on a shared machine it
# once stopped another developer's test server). So each server is
# recorded with an open descriptor of its /proc/PID directory, taken as it
# starts. The descriptor stays bound to that process: once it has been
# reaped, nothing under the directory opens any more, even when another
# process has its pid (proc(5)). A server is signalled only while its stat
# file opens through the descriptor and shows it has not exited; one that
# has exited is reported instead, with its exit status where it was this
# shell's child. (Between that look and the signal it could still exit and
# be reaped, and its pid be taken, all within the instant.)

declare -gA server_pid=() server_fd=() server_child=()
server_stat=()
server_how=

# server_read NAME: reads the stat file of server NAME's process through
# its descriptor into server_stat (proc(5)'s fields from the third on: the
# state, the parent's pid...); fails once the process has been reaped, or
# if it was when the server was recorded.
server_read() {
  local fd=${server_fd[$1]:-} stat
  [ -n "$fd" ] || return 1
  { read -r stat <"/proc/self/fd/$fd/stat"; } 2>/dev/null || return 1
  # Field 2, the command's name in parentheses, may hold spaces and
  # parentheses: the fields from the third on follow its last ")".
  read -r -a server_stat <<<"${stat##*) }"
}

# server_started NAME PID [other]: records PID, just started, as the
# server NAME. Without "other", PID is a child of this shell (COMMAND &,
# then $!), recorded only while it still is: not a process that took the
# pid of one already reaped. With "other", another command started it (a
# harness that wrote its pid to a file): it has no exit status here.
server_started() {
  local name=$1 pid=$2 fd
  server_pid[$name]=$pid
  server_fd[$name]=
  server_child[$name]=1
  [ "${3:-}" != other ] || server_child[$name]=
  [[ $pid =~ ^[1-9][0-9]*$ ]] || return 0
  { exec {fd}<"/proc/$pid"; } 2>/dev/null || return 0
  server_fd[$name]=$fd
  if [ -n "${server_child[$name]}" ] && ! { server_read "$name" && [ "${server_stat[1]}" = "$BASHPID" ]; }; then
    server_close "$name"
  fi
}

# server_running NAME: the server NAME runs (it has not exited).
server_running() {
  server_read "$1" && [ "${server_stat[0]}" != Z ]
}

# server_ended NAME: sets server_how to how the server NAME, no longer
# running, ended ("NAME (pid N) exited with status S"), for a message;
# reaps it and forgets it. Not in a command substitution: a subshell can
# neither reap this shell's child nor forget it.
server_ended() {
  local name=$1 pid=${server_pid[$1]} status=0 signal how
  if [[ $'\n'$(jobs -rp)$'\n' == *$'\n'$pid$'\n'* ]]; then
    # wait would wait for that one, which took the pid since.
    how="has exited; its pid now names another process this script started (its exit status is unknown)"
  elif [ -n "${server_child[$name]}" ]; then
    wait "$pid" 2>/dev/null || status=$?
    if [ "$status" -gt 128 ] && signal=$(kill -l "$status" 2>/dev/null); then
      how="was killed by SIG$signal (status $status)"
    else
      how="exited with status $status"
    fi
  else
    how="exited (not this script's child: its exit status is unknown)"
  fi
  server_forget "$name"
  server_how="$name (pid $pid) $how"
}

server_close() { # NAME: closes the server's descriptor
  local fd=${server_fd[$1]:-}
  if [ -n "$fd" ]; then exec {fd}<&-; fi
  server_fd[$1]=
}

server_forget() { # NAME
  server_close "$1"
  unset "server_pid[$1]" "server_fd[$1]" "server_child[$1]"
}

# server_stop NAME: stops the server NAME (SIGTERM, and waits for it when
# it is this shell's child) if it still runs; otherwise says how it ended,
# signals nothing, and fails. Nothing to do for a server not recorded
# (never started, or already stopped).
server_stop() {
  local name=$1 pid
  [ -n "${server_pid[$name]+set}" ] || return 0
  pid=${server_pid[$name]}
  if server_running "$name"; then
    kill "$pid" 2>/dev/null || true
    if [ -n "${server_child[$name]}" ]; then wait "$pid" 2>/dev/null || true; fi
    server_forget "$name"
    return 0
  fi
  server_ended "$name"
  say "$server_how before this script stopped it"
  return 1
}
