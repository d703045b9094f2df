# Everyday targets. CI runs .ci/run, which runs the same test command.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE     ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)

.PHONY: run sim test build lint bench fuzz ci clean

run: ## run the bot in development: embedded simulator, no keys
	$(GO) run ./cmd/bitrader run

sim: ## run the standalone Bitunix simulator on 127.0.0.1:8090
	$(GO) run ./cmd/bitrader sim --listen 127.0.0.1:8090

test: ## the test command (same as the README and CI)
	$(GO) test -race ./...

build: ## static binary in bin/
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/bitrader ./cmd/bitrader

lint: ## formatting and vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

bench: ## the benchmarks recorded in BENCHMARKS.md
	$(GO) test -run '^$$' -bench . -benchmem -benchtime=1s ./...

fuzz: ## a short run of every fuzz target
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 10s $$pkg || exit 1; \
	  done; \
	done

ci: ## everything CI runs
	bash .ci/run

clean:
	rm -rf bin
