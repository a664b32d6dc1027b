# The two set-up commands: `make run` and `make test`. Both install what is missing first.
SWIFT ?= swift
DATABASE ?= ./charter.db

.PHONY: deps run test lint interop dashboard python-sdk typescript-sdk soak bench bench-http bench-mint bench-client bench-verifier bench-replicas

deps:
	@./scripts/install-deps.sh

run: deps
	$(SWIFT) build -c release --product charter
	.build/release/charter serve --database $(DATABASE)

test: deps lint
	./scripts/check-openapi.sh
	$(SWIFT) build --build-tests
	./scripts/postgres.sh run $(SWIFT) test --skip-build
	./scripts/interop.sh
	./scripts/python-sdk.sh      # SDKs/python: mypy --strict and pytest against a live charter serve
	./scripts/typescript-sdk.sh  # SDKs/typescript: tsc and node --test against a live charter serve
	./scripts/dashboard.sh

lint:
	$(SWIFT) format lint --strict --recursive Package.swift Sources Tests Examples

interop: deps
	./scripts/interop.sh

dashboard: deps
	./scripts/dashboard.sh

python-sdk: deps
	@[ -x "$$($(SWIFT) build --show-bin-path)/charter" ] || $(SWIFT) build --product charter
	./scripts/python-sdk.sh

typescript-sdk: deps
	@[ -x "$$($(SWIFT) build --show-bin-path)/charter" ] || $(SWIFT) build --product charter
	./scripts/typescript-sdk.sh

bench: deps
	$(SWIFT) run -c release charter-bench ucan

bench-http: deps
	@command -v wrk >/dev/null || ./scripts/install-deps.sh wrk
	$(SWIFT) run -c release charter-bench http

bench-mint: deps
	$(SWIFT) run -c release charter-bench mint

bench-client: deps
	$(SWIFT) run -c release charter-bench client

bench-verifier: deps
	$(SWIFT) run -c release charter-bench verifier

bench-replicas: deps
	@command -v wrk >/dev/null || ./scripts/install-deps.sh wrk
	$(SWIFT) build -c release --product charter-bench
	./scripts/postgres.sh run .build/release/charter-bench replicas
	./scripts/postgres.sh run scripts/bench-postgres-floor.sh

# Hardening (issue 9): load, crashes, hostile connections, schemathesis and the fuzzer; about 25 minutes.
soak: deps
	@command -v wrk >/dev/null || ./scripts/install-deps.sh wrk
	$(SWIFT) build -c release --product charter
	python3 scripts/soak.py .build/release/charter
	CHARTER=.build/release/charter ./scripts/schemathesis.sh
	./scripts/fuzz.sh 600
