# kantree-nomad — see README.md.
SHELL   := /bin/bash
TOOLS   := $(CURDIR)/.tools/bin
export PATH := $(TOOLS):$(PATH)
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# A static, stripped binary: it runs in the exec driver's chroot on any
# node, and its processes (supervisor and watchdog) stay small.
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: all build test test-faults test-cluster cluster cluster-down bench-lock tools fmt lint render-example clean

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

## test-cluster: the multi-node scenarios (placement, drain, node loss, partition,
## a server restart during deploy) on a
## Nomad server and three clients, each in a network namespace. Needs root.
test-cluster: .tools/bin/consul .tools/bin/nomad
	$(GO) test -count=1 -tags cluster -timeout 25m -run '^TestNomadCluster' -v ./internal/testbed
	$(GO) test -count=1 -tags cluster -timeout 40m -v ./internal/e2e/cluster

## cluster: start the multi-node cluster for a person (root), deploy a
## Kantree with the stand-in platform, print the URL and commands to try.
CLUSTER_STATE := $(CURDIR)/.cluster
cluster: build .tools/bin/consul .tools/bin/nomad
	@if [ -f $(CLUSTER_STATE)/testpid ] && kill -0 $$(cat $(CLUSTER_STATE)/testpid) 2>/dev/null; then \
		cat $(CLUSTER_STATE)/ready 2>/dev/null; echo "cluster: already running (make cluster-down stops it)"; exit 0; fi; \
	rm -rf $(CLUSTER_STATE) && mkdir -p $(CLUSTER_STATE); \
	KANTREE_CLUSTER_STATE=$(CLUSTER_STATE) nohup $(GO) test -count=1 -tags cluster -timeout 0 \
		-run '^TestHoldCluster$$' -v ./internal/e2e/cluster > $(CLUSTER_STATE)/log 2>&1 & echo $$! > $(CLUSTER_STATE)/gopid; \
	for i in $$(seq 1 600); do \
		if [ -f $(CLUSTER_STATE)/ready ]; then cat $(CLUSTER_STATE)/ready; exit 0; fi; \
		if ! kill -0 $$(cat $(CLUSTER_STATE)/gopid) 2>/dev/null; then tail -40 $(CLUSTER_STATE)/log; echo "cluster: failed to start (log: $(CLUSTER_STATE)/log)"; exit 1; fi; \
		sleep 1; done; \
	echo "cluster: not ready after 10 minutes (log: $(CLUSTER_STATE)/log); make cluster-down stops it"; exit 1

## cluster-down: stop what make cluster started (by its recorded pid).
cluster-down:
	@if [ ! -f $(CLUSTER_STATE)/testpid ]; then echo "cluster: not running"; exit 0; fi; \
	pid=$$(cat $(CLUSTER_STATE)/testpid); kill -TERM $$pid 2>/dev/null || true; \
	for i in $$(seq 1 180); do kill -0 $$pid 2>/dev/null || break; sleep 1; done; \
	if kill -0 $$pid 2>/dev/null; then echo "cluster: test binary $$pid still running after 3 minutes"; exit 1; fi; \
	gopid=$$(cat $(CLUSTER_STATE)/gopid 2>/dev/null); [ -z "$$gopid" ] || wait $$gopid 2>/dev/null || true; \
	tail -3 $(CLUSTER_STATE)/log; rm -f $(CLUSTER_STATE)/testpid; echo "cluster: stopped"

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
