# tharsis: the command-line client for Tharsis.
GO        ?= go
BIN       ?= bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
LDFLAGS   := -s -w -X github.com/tharsis-cli/tharsis/internal/build.Version=$(VERSION) -X github.com/tharsis-cli/tharsis/internal/build.Commit=$(COMMIT)
PREFIX    ?= $(HOME)/.local
TEST_FLAGS ?= -race -count=1 -timeout 20m

.PHONY: all build install test test-short generate check-generated lint demo bench docs check-docs release-check snapshot clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/tharsis ./cmd/tharsis
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/tharsis-sandbox ./cmd/tharsis-sandbox

install: build
	install -d $(PREFIX)/bin
	install -m 0755 $(BIN)/tharsis $(PREFIX)/bin/tharsis

# Unit and end-to-end tests (the sandbox is started in-process by the tests).
test:
	$(GO) test $(TEST_FLAGS) ./...

test-short:
	$(GO) test -short -count=1 ./...

generate:
	$(GO) generate ./...

# Fails when `go generate` changes anything (generated code must be committed).
check-generated: generate
	@git diff --exit-code --stat -- . || (echo "generated code is stale: run 'make generate' and commit" >&2; exit 1)
	@test -z "$$(git status --porcelain --untracked-files=all -- '*generated*')" || (echo "untracked generated files: run 'make generate' and commit" >&2; git status --porcelain; exit 1)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

# Command reference from the command tree (cmd/gen-docs): markdown in
# docs/commands (committed: reviewed in diffs, read on the web) and man pages
# in $(BIN)/man (a build product, dated with the last commit so builds are
# reproducible). Install the man pages with: install -m 0644 bin/man/*.1 <manpath>/man1/
DOCS_DATE ?= $(shell git log -1 --format=%cs 2>/dev/null || echo 1970-01-01)

docs:
	$(GO) run ./cmd/gen-docs -markdown-dir docs/commands -man-dir $(BIN)/man -date $(DOCS_DATE)

# Fails when the committed command reference differs from the command tree.
check-docs: docs
	@git diff --exit-code --stat -- docs/commands || (echo "the command reference is stale: run 'make docs' and commit docs/commands" >&2; exit 1)
	@test -z "$$(git status --porcelain --untracked-files=all -- docs/commands)" || (echo "untracked or removed pages in docs/commands: run 'make docs' and commit" >&2; git status --porcelain -- docs/commands; exit 1)

# The main job end to end on the embedded sandbox.
demo: build
	./scripts/demo.sh

bench:
	./scripts/bench.sh

GORELEASER ?= $(GO) run github.com/goreleaser/goreleaser/v2@v2.15.1

# Validates .goreleaser.yaml (builds goreleaser from the module proxy on first use).
release-check:
	GOFLAGS= $(GORELEASER) check

# Local release archives for every platform in dist/.
snapshot:
	GOFLAGS= $(GORELEASER) release --snapshot --clean --skip=publish

clean:
	rm -rf $(BIN) dist
