// Package docs_test checks the project's Markdown: README.md, docs/ and
// policies/README.md link to one another by relative paths and anchors,
// which nothing else notices breaking when a heading or a file moves.
package docs_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// documents are the Markdown files checked, from this folder.
var documents = []string{"../README.md", "*.md", "../policies/*.md"}

// TestRelativeLinksResolve: every relative link of the documents names a
// file or folder of the repository, and every anchor (#heading) a heading
// of the document it points to, as GitHub spells a heading's anchor.
func TestRelativeLinksResolve(t *testing.T) {
	var files []string
	for _, pattern := range documents {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, matches...)
	}
	if len(files) < 3 {
		t.Fatalf("found only %v: the patterns %v no longer match the documents", files, documents)
	}
	anchors := map[string]map[string]bool{} // cleaned path → anchors
	links := map[string][]string{}          // cleaned path → its link destinations
	for _, f := range files {
		f = filepath.Clean(f)
		anchors[f], links[f] = read(t, f)
	}
	checked := 0
	defer func() { t.Logf("%d relative links of %d documents checked", checked, len(files)) }()
	for _, f := range files {
		f = filepath.Clean(f)
		for _, dest := range links[f] {
			if strings.Contains(dest, "://") || strings.HasPrefix(dest, "mailto:") {
				continue
			}
			checked++
			path, anchor, _ := strings.Cut(dest, "#")
			target := f
			if path != "" {
				target = filepath.Join(filepath.Dir(f), path)
				if _, err := os.Stat(target); err != nil {
					t.Errorf("%s links to %s, which does not exist", shown(f), dest)
					continue
				}
			}
			if anchor == "" || !strings.HasSuffix(target, ".md") {
				continue
			}
			known, ok := anchors[target]
			if !ok {
				known, _ = read(t, target)
			}
			if !known[anchor] {
				t.Errorf("%s links to %s: %s has no heading with that anchor", shown(f), dest, shown(target))
			}
		}
	}
}

// read parses a Markdown file and returns the anchors of its headings and
// the destinations of its links (not those inside code).
func read(t *testing.T, file string) (map[string]bool, []string) {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	seen := map[string]int{}
	var links []string
	doc := goldmark.New().Parser().Parse(text.NewReader(src))
	err = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			slug := slug(plain(n, src))
			if k := seen[slug]; k > 0 {
				anchors[slug+"-"+strconv.Itoa(k)] = true
			} else {
				anchors[slug] = true
			}
			seen[slug]++
		case *ast.Link:
			links = append(links, string(n.Destination))
		}
		return ast.WalkContinue, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return anchors, links
}

// plain is the text of a node, code spans included, without markup.
func plain(n ast.Node, src []byte) string {
	var b strings.Builder
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if t, ok := c.(*ast.Text); ok {
			b.Write(t.Segment.Value(src))
			continue
		}
		b.WriteString(plain(c, src))
	}
	return b.String()
}

// slug is GitHub's anchor of a heading: lower case, letters, digits, "-"
// and "_" kept, spaces made "-", every other character dropped.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// shown names a document as from the repository's root (docs/x.md, not x.md).
func shown(file string) string {
	if rel, ok := strings.CutPrefix(filepath.ToSlash(file), "../"); ok {
		return rel
	}
	return "docs/" + filepath.ToSlash(file)
}
