package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/cost"
	"github.com/casegraph/casegraph/trusted"
)

// trustedDocuments lets a client send a registered document by its hash
// alone (extensions.persistedQuery.sha256Hash, the convention of Apollo and
// Relay clients), and, when the server runs only trusted documents,
// refuses every other document before it is parsed. A registered document
// is then costed and audited like any other.
type trustedDocuments struct {
	// docs is the registry; nil when the server has none (development),
	// and then every document runs.
	docs *trusted.Documents
}

func (trustedDocuments) ExtensionName() string                   { return "TrustedDocuments" }
func (trustedDocuments) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters implements graphql.OperationParameterMutator.
func (t trustedDocuments) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	hash, byHash := persistedQueryHash(p.Extensions)
	if byHash && p.Query == "" {
		text, ok := t.lookup(hash)
		if !ok {
			return requestError(&apperr.Error{Code: apperr.PersistedQueryNotFound,
				Message: "No document is registered under this sha256Hash; send the query text with it, or register the document."})
		}
		p.Query = text
		return nil
	}
	if byHash && trusted.Hash(p.Query) != hash {
		return requestError(apperr.InvalidField("extensions.persistedQuery.sha256Hash", "The sha256Hash is not the SHA-256 of the query sent with it."))
	}
	if t.docs != nil {
		if _, ok := t.docs.Lookup(trusted.Hash(p.Query)); !ok {
			return requestError(&apperr.Error{Code: apperr.PersistedQueryNotFound,
				Message: "This server runs only registered documents, and this one is not: register it (casegraph documents add) and deploy the manifest."})
		}
	}
	return nil
}

func (t trustedDocuments) lookup(hash string) (string, bool) {
	if t.docs == nil {
		return "", false
	}
	return t.docs.Lookup(hash)
}

// persistedQueryHash reads extensions.persistedQuery.sha256Hash (version 1).
func persistedQueryHash(ext map[string]any) (string, bool) {
	pq, ok := ext["persistedQuery"].(map[string]any)
	if !ok {
		return "", false
	}
	hash, ok := pq["sha256Hash"].(string)
	return hash, ok && hash != ""
}

// CheckTrustedDocuments refuses a registry holding a document this server
// could never run: one that does not validate against the schema, or whose
// shape is over the limits. A server checks its registry at start.
func CheckTrustedDocuments(docs *trusted.Documents, l cost.Limits) error {
	schema := NewExecutableSchema(Config{}).Schema()
	for _, d := range docs.All() {
		if err := cost.CheckText(d.Text, l); err != nil {
			return fmt.Errorf("trusted document %s: %w", d.Hash, err)
		}
		doc, errs := gqlparser.LoadQueryWithRules(schema, d.Text, nil)
		if len(errs) > 0 {
			return fmt.Errorf("trusted document %s does not validate: %s", d.Hash, errs[0].Message)
		}
		if err := cost.CheckShape(doc, l); err != nil {
			return fmt.Errorf("trusted document %s: %w", d.Hash, err)
		}
	}
	return nil
}
