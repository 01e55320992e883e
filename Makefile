# crmhub — `make run` starts the hub on embedded defaults; `make test` runs every test.
.DEFAULT_GOAL := help
SHELL := /bin/bash

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
BIN     := bin/crmhub

# OS packages the hub and its tests use, as "command:debian-package".
# initdb/pg_ctl/postgres/pgbench are looked up in /usr/lib/postgresql/*/bin too.
# `make run` needs only PostgreSQL; tests, benchmarks and lint need the rest.
# chromium:fonts-dejavu-core: the browser tests' fonts (Cyrillic), which have no command, come with chromium.
RUN_DEPS := initdb:postgresql
DEPS := $(RUN_DEPS) pgbench:postgresql psql:postgresql-client curl:curl wrk:wrk kcat:kcat docker-compose:docker-compose pdftotext:poppler-utils pdftoppm:poppler-utils \
        dovecot:dovecot-imapd /usr/lib/dovecot/lmtp:dovecot-lmtpd smtpd:opensmtpd soffice:libreoffice-calc-nogui \
        chromium:chromium chromium:fonts-dejavu-core node:nodejs npx:npm

# The client generators of `make sdk` (api/sdk_test.go pins the same).
OAPI_CODEGEN := github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2

.PHONY: help deps deps/run build run test sdk bench bench/crm bench/stream bench/telephony bench/forms bench/upload bench/fias bench/reports lint fmt clean

help: ## show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_\/-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# install_deps installs the packages of $(1) that are missing (apt-get when
# root; otherwise it prints what to install).
define install_deps
missing=""; \
for d in $(1); do \
	cmd=$${d%%:*}; pkg=$${d##*:}; \
	command -v $$cmd >/dev/null 2>&1 && continue; \
	ls /usr/lib/postgresql/*/bin/$$cmd >/dev/null 2>&1 && continue; \
	case " $$missing " in *" $$pkg "*) ;; *) missing="$$missing $$pkg";; esac; \
done; \
if [ -z "$$missing" ]; then echo "deps: all present"; exit 0; fi; \
if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	echo "deps: installing$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	case "$$missing" in *opensmtpd*) [ -x /etc/init.d/opensmtpd ] && /etc/init.d/opensmtpd stop >/dev/null 2>&1 || true;; esac; \
else \
	echo "deps: missing OS packages:$$missing"; \
	echo "      install them (Debian/Ubuntu: sudo apt-get install$$missing), or set CRMHUB_DATABASE_URL"; \
	exit 1; \
fi
endef

deps: ## install missing OS packages for tests, benchmarks and lint (apt-get when root), and the S3 gateway the object store is tested against
	@$(call install_deps,$(DEPS))
	@command -v versitygw >/dev/null 2>&1 || [ -x "$$($(GO) env GOPATH)/bin/versitygw" ] || \
		{ echo "deps: installing versitygw (Versity S3 Gateway)"; $(GO) install github.com/versity/versitygw/cmd/versitygw@v1.8.0; }

deps/run: ## install what `make run` needs (PostgreSQL) when missing
	@$(call install_deps,$(RUN_DEPS))

build: ## build bin/crmhub
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/crmhub

run: deps/run build ## run the hub on embedded defaults (PostgreSQL under ./var/pg, API on 127.0.0.1:8080)
	./$(BIN) serve

test: deps ## run every test, with the race detector (real PostgreSQL, started by the tests themselves)
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 10m ./...

bench: deps build ## HTTP load test of POST /api/v1/leads against pgbench, and the Go benchmarks
	$(GO) build -o bin/crmhub-bench ./cmd/crmhub-bench
	./bin/crmhub-bench -hub ./$(BIN)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./...

bench/crm: deps ## load 1M contacts and 200k deals, time lists, searches and the funnel, as users of each reach
	$(GO) build -o bin/crmhub-bench ./cmd/crmhub-bench
	./bin/crmhub-bench -crm

bench/stream: deps ## relay throughput vs franz-go straight to the broker, and end-to-end latency
	$(GO) build -o bin/crmhub-bench ./cmd/crmhub-bench
	./bin/crmhub-bench -stream

bench/telephony: deps ## PBX notifications from 32 senders on loopback: calls/s end to end, response p99, count check
	$(GO) build -o bin/crmhub-bench ./cmd/crmhub-bench
	./bin/crmhub-bench -telephony

bench/forms: deps ## form submissions from 32 senders on loopback: submissions/s end to end, response p99, count check
	$(GO) build -o bin/crmhub-bench ./cmd/crmhub-bench
	./bin/crmhub-bench -forms

bench/upload: deps build ## a 25 MiB file streamed to a real crmhub serve and back: its peak memory against the file's size
	$(GO) build -o bin/crmhub-bench ./cmd/crmhub-bench
	./bin/crmhub-bench -hub ./$(BIN) -upload

bench/fias: deps build ## crmhub fias import of synthetic regions of 1M and 3M houses: houses/s, peak memory, size per million houses
	$(GO) build -o bin/crmhub-bench ./cmd/crmhub-bench
	./bin/crmhub-bench -hub ./$(BIN) -fias $(if $(HOUSES),-fias-houses $(HOUSES))

bench/reports: deps ## reports over 1M deals and 500k invoices: summary by month and owner, unpaid invoices, 100k rows to Excel
	$(GO) test -run '^$$' -bench BenchmarkReports -benchtime 3x -benchmem ./api/

lint: deps ## go vet, staticcheck, gofmt check, the import rule, the tracked-binary check and the compose file
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) test -count=1 -run 'TestImportRule' .
	@big=$$(git ls-files -s | awk '$$1 == "100755" {print $$4}' | while read -r f; do \
		[ -f "$$f" ] && [ $$(stat -c %s "$$f") -gt 1048576 ] && echo "$$f"; done); \
	if [ -n "$$big" ]; then echo "executables over 1 MB tracked in git (build output: git rm --cached and ignore):"; echo "$$big"; exit 1; fi
	docker-compose -f deploy/docker-compose.yml config -q

sdk: ## regenerate the Go (api/sdk/go) and TypeScript (api/sdk/ts) clients from api/openapi.json and build the TypeScript one
	$(GO) run $(OAPI_CODEGEN) -generate types,client -package crmhub -o api/sdk/go/client.gen.go api/openapi.json
	$(GO) build ./api/sdk/go
	cd api/sdk/ts && npm ci --no-audit --no-fund --silent && npm run --silent generate && npm run --silent build

fmt: ## gofmt every file
	gofmt -w $$(git ls-files '*.go')

clean: ## remove build output (not ./var)
	rm -rf bin
