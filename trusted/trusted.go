// Package trusted holds the GraphQL documents a production server agrees
// to run: the dashboards' and integrators' operations, registered ahead of
// time by the SHA-256 of their text (the persisted-query convention of
// Apollo and Relay clients). A server given such a registry runs nothing
// else, so no caller can send it a document nobody reviewed.
//
// The registry is a JSON manifest, in either of the forms clients'
// tooling writes:
//
//   - Apollo's persisted query manifest:
//     {"format": "apollo-persisted-query-manifest", "version": 1,
//     "operations": [{"id": "<sha256>", "name": "...", "type": "query", "body": "..."}]}
//   - a map from hash to text, as Relay's compiler writes with the SHA256
//     algorithm: {"<sha256>": "<document>"}
//
// Every id must be the SHA-256 (lower-case hex) of its text: a manifest
// that says otherwise is refused whole.
package trusted

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// Documents is a registry of trusted documents, read-only once loaded.
type Documents struct {
	byHash map[string]string
}

// Hash returns the id of a document: the SHA-256 of its text, in
// lower-case hex.
func Hash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// Load reads the manifest at path.
func Load(path string) (*Documents, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the trusted documents: %w", err)
	}
	d, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("trusted documents %s: %w", path, err)
	}
	return d, nil
}

// apolloManifest is Apollo's persisted query manifest.
type apolloManifest struct {
	Format     string              `json:"format"`
	Version    int                 `json:"version"`
	Operations []manifestOperation `json:"operations"`
}

type manifestOperation struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Body string `json:"body"`
}

// Parse reads a manifest.
func Parse(raw []byte) (*Documents, error) {
	d := New()
	var apollo apolloManifest
	if err := json.Unmarshal(raw, &apollo); err == nil && apollo.Format != "" {
		if apollo.Format != "apollo-persisted-query-manifest" || apollo.Version != 1 {
			return nil, fmt.Errorf("format %q version %d is not one this server reads (apollo-persisted-query-manifest, version 1)", apollo.Format, apollo.Version)
		}
		for _, op := range apollo.Operations {
			if err := d.add(op.ID, op.Body); err != nil {
				return nil, err
			}
		}
		return d, nil
	}
	var flat map[string]string
	if err := json.Unmarshal(raw, &flat); err != nil {
		return nil, errors.New("not a JSON manifest: an Apollo persisted query manifest, or an object from SHA-256 to document")
	}
	for id, body := range flat {
		if err := d.add(id, body); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (d *Documents) add(id, body string) error {
	if body == "" {
		return fmt.Errorf("document %s is empty", id)
	}
	if got := Hash(body); got != id {
		return fmt.Errorf("document %s: its text hashes to %s; ids are the SHA-256 of the text", id, got)
	}
	d.byHash[id] = body
	return nil
}

// Lookup returns the document registered under hash.
func (d *Documents) Lookup(hash string) (string, bool) {
	text, ok := d.byHash[hash]
	return text, ok
}

// Len is how many documents are registered.
func (d *Documents) Len() int { return len(d.byHash) }

// All returns the registered documents by hash, in hash order.
func (d *Documents) All() []Entry {
	out := make([]Entry, 0, len(d.byHash))
	for h, t := range d.byHash {
		out = append(out, Entry{Hash: h, Text: t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Hash < out[j].Hash })
	return out
}

// Entry is one registered document.
type Entry struct {
	Hash string
	Text string
}

// New returns an empty registry.
func New() *Documents { return &Documents{byHash: map[string]string{}} }

// Add registers text and returns its hash.
func (d *Documents) Add(text string) string {
	h := Hash(text)
	d.byHash[h] = text
	return h
}

// Manifest returns the registry as an Apollo persisted query manifest,
// documents in hash order, each named by its first operation.
func (d *Documents) Manifest() ([]byte, error) {
	m := apolloManifest{Format: "apollo-persisted-query-manifest", Version: 1}
	m.Operations = make([]manifestOperation, 0, len(d.byHash))
	for _, e := range d.All() {
		name, kind := "", "query"
		if doc, err := parser.ParseQuery(&ast.Source{Input: e.Text}); err == nil && len(doc.Operations) > 0 {
			name, kind = doc.Operations[0].Name, string(doc.Operations[0].Operation)
		}
		m.Operations = append(m.Operations, manifestOperation{ID: e.Hash, Name: name, Type: kind, Body: e.Text})
	}
	return json.MarshalIndent(m, "", "  ")
}
