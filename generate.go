// Package casegraph is the root of the CaseGraph module. Its only code is the
// one entry point of code generation, run by `go generate ./...` or
// `make generate`: first the enumerations of package domain (which ent and
// GraphQL take their enums from), then ent (the data model and
// graph/ent.graphqls), then gqlgen (the GraphQL executor over both schemas),
// then the published contract of the schema gqlgen serves
// (schema.published.graphql), which cmd/schemacontract refuses to rewrite
// with a breaking change docs/schema-changes.md does not accept.
package casegraph

//go:generate go run ./domain/internal/enumgen -o domain/enums_gen.go
//go:generate go run -mod=mod ./ent/entc.go
//go:generate go run ./graph/internal/gqlgenerate
//go:generate go run ./cmd/schemacontract
