// Package casegraph is the root of the CaseGraph module. Its only code is the
// one entry point of code generation, run by `go generate ./...` or
// `make generate`: first ent (the data model and graph/ent.graphqls), then
// gqlgen (the GraphQL executor over both schemas).
package casegraph

//go:generate go run -mod=mod ./ent/entc.go
//go:generate go tool gqlgen generate
