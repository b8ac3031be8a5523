// Package scripts_test tests servers.sh, the part the shell scripts share:
// a server they started is signalled only while it is still the process
// they started.
package scripts_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// servers runs a bash script that has sourced servers.sh (say writing to
// standard error), with args before it (a command such as unshare, whose
// last argument is bash), and returns its standard output and error. The
// script's $dir is a directory of its own.
func servers(t *testing.T, script string, args ...string) (stdout, stderr string) {
	t.Helper()
	args = append(args, "bash", "-c", "set -euo pipefail\nsay() { echo \"$*\" >&2; }\n. ./servers.sh\n"+script)
	// Not a timing: a script that waits for the wrong process would
	// otherwise hang the test.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.WaitDelay = time.Second
	cmd.Env = append(os.Environ(), "dir="+t.TempDir())
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errs.String())
	}
	return out.String(), errs.String()
}

// exits3 starts, in a script, the server s, which exits with status 3
// once recorded, and waits until it has been reaped (its /proc directory
// gone; at most 10 s). $pid is its pid.
const exits3 = `
mkfifo "$dir/exit"
sh -c 'read -r _; exit 3' <"$dir/exit" & server_started s $!
pid=${server_pid[s]}
echo >"$dir/exit"
for _ in $(seq 1 1000); do [ -e "/proc/$pid" ] || break; sleep 0.01; done
[ ! -e "/proc/$pid" ] || { echo "pid $pid still there"; exit 2; }
`

// TestServerStopSaysHowItEnded: server_stop stops a server that runs, and
// waits for it; one that has exited it reports, with its exit status,
// and fails.
func TestServerStopSaysHowItEnded(t *testing.T) {
	out, log := servers(t, `
sleep 300 & server_started t $!
tpid=${server_pid[t]}
server_running t && echo "t running"
server_stop t && echo "t stopped"
status=0; wait "$tpid" || status=$?
echo "t ended by SIG$(kill -l "$status")"
server_running t || echo "t forgotten"
`+exits3+`
server_running s || echo "s not running"
status=0; server_stop s || status=$?
echo "stop s: $status"
server_stop s && echo "s forgotten"
`)
	for _, want := range []string{"t running", "t stopped", "t ended by SIGTERM", "t forgotten", "s not running", "stop s: 1", "s forgotten"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("no %q in the script's output:\n%s\nstderr:\n%s", want, out, log)
		}
	}
	if !strings.Contains(log, ") exited with status 3 before this script stopped it") {
		t.Errorf("server_stop did not say how s ended:\n%s", log)
	}
}

// TestServerStopLeavesAReusedPidAlone: once a server has exited, its pid
// may name another process; server_stop must not signal it. In a PID
// namespace of its own (unshare), the script sets the namespace's last
// pid so that the next process, a stranger, gets the exited server's pid;
// server_stop must report the server's end and the stranger must end by
// the test's own signal, SIGPROF, not by server_stop's SIGTERM (a pending
// SIGTERM, lower-numbered, would be delivered first).
func TestServerStopLeavesAReusedPidAlone(t *testing.T) {
	unshare := namespaced(t)
	out, log := servers(t, exits3+`
echo $((pid - 1)) >/proc/sys/kernel/ns_last_pid
sleep 300 & stranger=$!
[ "$stranger" = "$pid" ] || { echo "the stranger has pid $stranger, not $pid"; exit 2; }
status=0; server_stop s || status=$?
echo "stop s: $status"
kill -PROF "$stranger"
status=0; wait "$stranger" || status=$?
echo "the stranger ended by SIG$(kill -l "$status")"
`, unshare...)
	for _, want := range []string{"stop s: 1", "the stranger ended by SIGPROF"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("no %q in the script's output:\n%s\nstderr:\n%s", want, out, log)
		}
	}
	// The stranger is the script's own child (so that it can tell how it
	// ended): the server's exit status is not asked of bash, whose wait
	// would wait for the stranger.
	if !strings.Contains(log, ") has exited; its pid now names another process this script started") {
		t.Errorf("server_stop did not say that s had exited:\n%s", log)
	}
}

// namespaced returns the unshare command that runs a script in a PID
// namespace of its own, where it may set the next pid (every process in
// it ends with the command: --kill-child), or skips the test
// when the machine allows none (a container without the capability).
func namespaced(t *testing.T) []string {
	t.Helper()
	for _, unshare := range [][]string{
		{"unshare", "--pid", "--fork", "--kill-child", "--mount-proc"},
		{"unshare", "--user", "--map-root-user", "--pid", "--fork", "--kill-child", "--mount-proc"},
	} {
		try := append(append([]string{}, unshare...), "sh", "-c", "echo 100 >/proc/sys/kernel/ns_last_pid")
		if exec.Command(try[0], try[1:]...).Run() == nil {
			return unshare
		}
	}
	t.Skip("skipping: no PID namespace of its own for the test (unshare --pid, with or without --user), where it could make a pid be reused")
	return nil
}
