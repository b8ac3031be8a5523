//go:build unix

package main_test

import (
	"path/filepath"
	"testing"
)

// TestE2EReportUsage: the binary exits 2 on a usage error of `report
// annual`, saying what is wrong, and prints nothing on stdout.
func TestE2EReportUsage(t *testing.T) {
	t.Parallel()
	env := childEnv("CASEGRAPH_DATA_DIR=" + filepath.Join(t.TempDir(), "data"))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "annual"}, "report annual needs --year"},
		{[]string{"report", "annual", "--year", "2025", "--format", "xml"}, `--format is md, csv or json, not "xml"`},
		{[]string{"report", "annual", "--year", "2025", "--threshold", "2"}, "--threshold must be from 5"},
	} {
		r := mustRefuse(t, env, []string{tc.want}, tc.args...)
		if r.code != 2 || r.stdout != "" {
			t.Errorf("want exit 2 and nothing on stdout:\n%s", r)
		}
	}
}
