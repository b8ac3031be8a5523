# CaseGraph. `make run` starts it with demo data; `make test` runs every test.
# Nothing but Go is needed: generated code, migrations and GraphiQL's assets
# are committed.

GO       ?= go
BIN      := bin/casegraph
PKGS     := ./...

.PHONY: all build run test test-race test-short bench bench-http conformance generate check-generated migration migration-by-hand migration-sums lint vet clean help fuzz

all: build

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

build: ## Build bin/casegraph.
	$(GO) build -o $(BIN) ./cmd/casegraph

run: build ## Build and start on the embedded database, with demo data on first start.
	./$(BIN) serve --seed-demo-if-empty

# The abuse suite bounds server time and memory, so it runs alone: no other
# package's tests share the CPUs it measures.
test: ## Run every test (PostgreSQL tests skip, saying so, when no server answers).
	$(GO) test -count=1 -timeout 20m $$($(GO) list $(PKGS) | grep -v /abuse$$)
	$(GO) test -count=1 -timeout 5m ./abuse
	$(MAKE) --no-print-directory test-race

# The race detector slows a test several times over, so it runs the tests
# whose point is concurrency: policy reloads beside the policy tools,
# the tools' policies built in memory at once (their slots), changes
# from several servers, the audit trail's group commit and concurrent
# writers (about a minute here). It found the first reload of a
# following server racing with server.New's interceptors (2026-12-07).
RACE_TESTS := Conflicting|PolicyTools|Reload|Propagat|GroupCommit|Concurrent
# The detector needs cgo (a C compiler): without one this says so and
# skips, unless CASEGRAPH_REQUIRE_RACE=1 (CI) makes that a failure.
test-race: ## Run the concurrency tests under the race detector.
	@if [ "$$($(GO) env CGO_ENABLED)" != 1 ]; then \
		echo "test-race: skipped: the race detector needs cgo (a C compiler such as gcc)"; \
		[ "$$CASEGRAPH_REQUIRE_RACE" != 1 ]; \
	else \
		echo "$(GO) test -race -count=1 -timeout 10m -run '$(RACE_TESTS)' ./authz"; \
		$(GO) test -race -count=1 -timeout 10m -run '$(RACE_TESTS)' ./authz; \
	fi

test-short: ## Run the fast tests only.
	$(GO) test -short -count=1 $(PKGS)

# Fuzz targets, as package:Name; `make fuzz` runs each for FUZZTIME.
# A count of executions, not a duration: Go 1.26's coordinator can report
# "context deadline exceeded" as a failure when a duration ends while a
# worker is mid-call (go.dev/issue/75804, fixed in Go 1.27), and a count
# has no deadline to race. 8000 is about 5-10 s per target here.
FUZZTIME     ?= 8000x
FUZZ_TARGETS := ./server:FuzzGraphQLRequest ./server:FuzzGlobalID ./server:FuzzCursor ./auth:FuzzBearerToken

fuzz: ## Fuzz each target for FUZZTIME executions (default 8000x; a duration such as 30s works too); a failure is saved under the package's testdata/fuzz.
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz: $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

bench: ## Run the benchmarks (see README for what they measure).
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m $(PKGS)

# Not part of `make test` or CI: it seeds a large database and runs for
# minutes. Settings are environment variables (docs/benchmark-http.md).
bench-http: build ## The dashboard page over HTTP under wrk, on PostgreSQL and SQLite: one table (docs/benchmark-http.md).
	CASEGRAPH=$(BIN) scripts/bench-http/run.sh

conformance: build ## GraphQL over HTTP: graphql-http's audits against a fresh server (needs Node 18+ and npm).
	scripts/conformance/run.sh $(BIN)

generate: ## Regenerate ent, the GraphQL schema and the gqlgen executor.
	$(GO) generate ./...

# check-generated compares the tree before and after `go generate`, so the
# developer's own uncommitted work neither fails it nor is touched: nothing
# is staged, and git's optional index refresh is off.
GIT_STATE := { git --no-optional-locks status --porcelain --untracked-files=all; \
	git --no-optional-locks diff; \
	git --no-optional-locks ls-files -z --others --exclude-standard | xargs -0 -r sha256sum; } | sha256sum

check-generated: ## Fail when `go generate ./...` changes anything (generated code not up to date).
	@before=$$($(GIT_STATE)); \
	$(GO) generate ./... || exit 1; \
	if [ "$$before" != "$$($(GIT_STATE))" ]; then \
		git --no-optional-locks status --short >&2; \
		echo "generated code is out of date: run 'make generate' and commit" >&2; exit 1; \
	fi

migration: ## Write a new migration from the ent schema, numbered after every committed one: make migration NAME=add_x (needs PostgreSQL for its dialect).
	@test -n "$(NAME)" || (echo "usage: make migration NAME=what_it_does" >&2; exit 2)
	$(GO) run ./cmd/migrategen -name $(NAME)

migration-by-hand: ## Start a migration written by hand (a trigger, a backfill), numbered as `make migration` numbers one: make migration-by-hand NAME=add_x; fill in both files, then make migration-sums.
	@test -n "$(NAME)" || (echo "usage: make migration-by-hand NAME=what_it_does" >&2; exit 2)
	$(GO) run ./cmd/migrategen -by-hand -name $(NAME)

migration-sums: ## Rewrite atlas.sum after adding a hand-written migration (a trigger ent cannot model).
	$(GO) run ./cmd/migrategen -rehash

vet: ## go vet.
	$(GO) vet $(PKGS)

# Hand-written Go files: tracked or new, without the generated-code marker.
# Generated code is its generator's business (check-generated guards it).
HANDWRITTEN_GO = git ls-files --cached --others --exclude-standard '*.go' | \
	xargs grep -L '^// Code generated .* DO NOT EDIT\.$$'
# Packages staticcheck reads: all but ent's generated ones (ent/schema is
# written by hand).
LINT_PKGS = $$($(GO) list $(PKGS) | grep -v -e '/ent$$' -e '/ent/') ./ent/schema

lint: vet ## go vet, gofmt, goimports and staticcheck (staticcheck.conf) over the hand-written code.
	@files=$$($(HANDWRITTEN_GO)); \
	unformatted=$$( { gofmt -l $$files; $(GO) tool goimports -l $$files; } | sort -u); \
	if [ -n "$$unformatted" ]; then \
		echo "not formatted (gofmt -w, go tool goimports -w):" >&2; echo "$$unformatted" >&2; exit 1; \
	fi
	$(GO) tool staticcheck $(LINT_PKGS)

clean: ## Remove the binary (not the data).
	rm -rf bin
