package input_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/input"
)

// TestTimeRangeNamesWhatItTakes: a time refused for its range is told the
// range as the instants compared, and the first one named is taken. The
// range was named as Tirana's days ("between 1900-01-01 and …"), while
// its start is midnight UTC, 01:19:20 in Tirana then: 00:30 on 1 January
// 1900 in Tirana was refused, with the day it falls on named as the first
// of the range (a review).
func TestTimeRangeNamesWhatItTakes(t *testing.T) {
	now := time.Date(2026, time.December, 6, 12, 0, 0, 0, time.UTC)
	early := time.Date(1900, time.January, 1, 0, 30, 0, 0, domain.Tirana)
	err := input.CheckTime("openedAt", "openedAt", early, now)
	if err == nil {
		t.Fatalf("%s, before %s, was taken", early.Format(time.RFC3339), input.Earliest.Format(time.RFC3339))
	}
	named := regexp.MustCompile(`between (\S+) and (\S+):`).FindStringSubmatch(err.Error())
	if named == nil {
		t.Fatalf("the refusal names no range: %v", err)
	}
	first, perr := time.Parse(time.RFC3339, named[1])
	if perr != nil {
		t.Fatalf("the range's start %q is no instant: %v", named[1], perr)
	}
	if err := input.CheckTime("openedAt", "openedAt", first, now); err != nil {
		t.Errorf("the first instant the range names, %s, is refused: %v", named[1], err)
	}
	if err := input.CheckTime("openedAt", "openedAt", first.Add(-time.Nanosecond), now); err == nil {
		t.Errorf("an instant before the range's start %s is taken", named[1])
	}
}
