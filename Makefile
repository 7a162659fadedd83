# parsec-teams: the front door.
#   make demo   set everything up and run the onboarding demo against the embedded mock
#   make test   every test of every layer (what CI runs)
#   make bench  the benchmarks (results in bench/RESULTS.md)
# Needs only Rust (cargo with clippy and rustfmt), Python 3, Node + npm and a C compiler.

CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: all build demo test test-rust lint bench clean

all: build

build:
	$(CARGO) build --workspace --all-targets

demo:
	$(CARGO) run --quiet -p parsec-teams --example onboard

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test-rust:
	$(CARGO) test --workspace --no-fail-fast

test: lint test-rust

bench:
	bash bench/run.sh

clean:
	$(CARGO) clean
