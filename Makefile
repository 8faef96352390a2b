# kantree-nomad — see README.md.
SHELL   := /bin/bash
TOOLS   := $(CURDIR)/.tools/bin
export PATH := $(TOOLS):$(PATH)
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# A static, stripped binary: it runs in the exec driver's chroot on any
# node, and its processes (supervisor and watchdog) stay small.
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: all build test test-faults bench-lock tools fmt lint render-example clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/kantree-nomad ./cmd/kantree-nomad

## tools: install the real services the tests run (idempotent).
tools:
	./tools/install.sh

# The tests need these binaries; make test installs whatever is missing
# (install.sh only checks, in well under a second, when all is there).
.tools/bin/consul .tools/bin/consul-template .tools/bin/nomad:
	./tools/install.sh

# The end-to-end packages (real Nomad, timed availability and zero-failure
# figures) run after the others, one at a time, so that no other test
# package competes with them for the 2 CI cores.
E2E := ./internal/e2e/...

test: tools
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 25m $$($(GO) list ./... | grep -v /internal/e2e)
	$(GO) test -count=1 -timeout 25m -p 1 $(E2E)

## test-faults: the long fault scenarios of the scheduler lock and the migration lease.
test-faults: .tools/bin/consul
	$(GO) test -count=1 -tags faults -timeout 40m -run '^TestFault' -v ./runtime/supervise ./runtime/migrate

## bench-lock: kantree-nomad supervise against consul lock, side by side.
bench-lock: .tools/bin/consul
	$(GO) run ./bench/lock

render-example:
	$(GO) run ./cmd/kantree-nomad render -o deploy examples/basic/kantree.hcl

fmt:
	gofmt -w $$(git ls-files '*.go')

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

clean:
	rm -rf bin deploy
