// Package benchhttp holds the HTTP benchmark's script (run.sh), its
// queries and its arms (arms.tsv); its Go code reads the arms for the
// tests that check them against a real server.
package benchhttp

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Arm is one line of arms.tsv: a page asked by one principal, and what
// every answer must be ("clean": no errors; "refused": every legalName
// FORBIDDEN).
type Arm struct {
	Name, Query, Agency, Role, Expect string
}

// ReadArms reads the arms from the arms.tsv in dir.
func ReadArms(dir string) ([]Arm, error) {
	f, err := os.Open(filepath.Join(dir, "arms.tsv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var arms []Arm
	lines := bufio.NewScanner(f)
	for n := 1; lines.Scan(); n++ {
		line := lines.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 5 {
			return nil, fmt.Errorf("arms.tsv:%d: %d tab-separated columns, want 5", n, len(cols))
		}
		arms = append(arms, Arm{Name: cols[0], Query: cols[1], Agency: cols[2], Role: cols[3], Expect: cols[4]})
	}
	return arms, lines.Err()
}
