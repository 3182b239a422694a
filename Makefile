# tharsis: the command-line client for Tharsis.
GO        ?= go
BIN       ?= bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
LDFLAGS   := -s -w -X github.com/tharsis-cli/tharsis/internal/build.Version=$(VERSION) -X github.com/tharsis-cli/tharsis/internal/build.Commit=$(COMMIT)
PREFIX    ?= $(HOME)/.local
TEST_FLAGS ?= -race -count=1 -timeout 20m

.PHONY: all build install test test-short generate check-generated lint demo bench docs release-check snapshot clean

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
