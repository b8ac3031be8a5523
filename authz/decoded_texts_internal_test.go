package authz

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/domain"
)

// TestDecodedTextsOncePerServer: a consent's terms text is decoded the
// first time it is read and then found, without decoding or allocating
// again, by every later page; an unreadable text is an error and is not
// kept; a text over maxDecodedTextBytes, and any past maxDecodedTexts,
// is still decoded, and not kept.
func TestDecodedTextsOncePerServer(t *testing.T) {
	d := decodedTexts[[]domain.AgencyKind]{seen: map[string][]domain.AgencyKind{}}
	text := `["NGO", "POLICE"]`
	first, err := d.decode(text)
	if err != nil || !slices.Equal(first, []domain.AgencyKind{"NGO", "POLICE"}) {
		t.Fatalf("decode(%s) = %v, %v", text, first, err)
	}
	if allocs := testing.AllocsPerRun(100, func() {
		if again, err := d.decode(text); err != nil || !slices.Equal(again, first) {
			t.Fatalf("decoding again = %v, %v", again, err)
		}
	}); allocs != 0 {
		t.Errorf("decoding a text read before allocates %.0f times; it is decoded again", allocs)
	}

	if _, err := d.decode(`["NGO"`); err == nil {
		t.Error("an unreadable text decoded without error")
	}
	if _, kept := d.seen[`["NGO"`]; kept {
		t.Error("an unreadable text was kept")
	}

	long := `["` + strings.Repeat("NGO", maxDecodedTextBytes) + `"]`
	if v, err := d.decode(long); err != nil || len(v) != 1 {
		t.Errorf("a long text decoded to %d values, %v", len(v), err)
	}
	if _, kept := d.seen[long]; kept {
		t.Error("a text longer than maxDecodedTextBytes was kept")
	}

	for i := len(d.seen); i < maxDecodedTexts+10; i++ {
		if _, err := d.decode(fmt.Sprintf(`["K%d"]`, i)); err != nil {
			t.Fatal(err)
		}
	}
	if len(d.seen) != maxDecodedTexts {
		t.Errorf("%d texts kept, want at most %d", len(d.seen), maxDecodedTexts)
	}
	past := fmt.Sprintf(`["K%d"]`, maxDecodedTexts+20)
	if v, err := d.decode(past); err != nil || !slices.Equal(v, []domain.AgencyKind{domain.AgencyKind(fmt.Sprintf("K%d", maxDecodedTexts+20))}) {
		t.Errorf("a text past the bound decoded to %v, %v", v, err)
	}
}
