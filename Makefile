# parsec-teams: the front door.
#   make demo   set everything up and run the onboarding demo of every language against the embedded mock
#   make test   every test of every layer (what CI runs: .ci/run)
#   make bench  every benchmark; results in bench/RESULTS.md
#   make package  every release artifact into dist/, each checked (docs/packaging.md)
# Needs only Rust (cargo with clippy and rustfmt), Python 3, Node + npm and a C compiler;
# everything else comes from crates.io, PyPI and npm into folders of this repo.

CARGO ?= cargo
export CARGO_TERM_COLOR ?= never
# Every cargo build of every layer targets the host triple explicitly, as the
# napi CLI always does: the Python, Node and C release builds then share one
# target/<triple>/release instead of compiling the dependency tree twice.
export CARGO_BUILD_TARGET ?= $(shell rustc -vV | sed -n 's/^host: //p')
BINDINGS := bindings-python bindings-node bindings-c

.PHONY: all build demo demo-rust test test-rust lint bench bench-rust bench-results clean check-versions package \
	$(addprefix demo-,python node c) $(addprefix test-,python node c) $(addprefix bench-,python node c)

all: build

build:
	$(CARGO) build --workspace --all-targets

# ---- demo -----------------------------------------------------------------
demo: demo-rust demo-python demo-node demo-c

demo-rust:
	$(CARGO) run --quiet -p parsec-teams --example onboard

demo-python demo-node demo-c: demo-%:
	$(MAKE) -C bindings-$* demo

# ---- test -----------------------------------------------------------------
test: check-versions lint test-rust test-python test-node test-c
	@echo "make test: every layer passed"

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# One version (Cargo.toml's [workspace.package]) in every package: docs/versioning.md.
check-versions:
	python3 packaging/versions.py

test-rust:
	$(CARGO) test --workspace --no-fail-fast

test-python test-node test-c: test-%:
	$(MAKE) -C bindings-$* test

# ---- bench ----------------------------------------------------------------
bench: bench-rust bench-python bench-node bench-c bench-results

bench-rust:
	bash bench/run.sh

bench-python bench-node bench-c: bench-%:
	$(MAKE) -C bindings-$* bench

# Gathers each language's results (bench/<lang>/RESULTS.md) into bench/RESULTS.md.
bench-results:
	python3 bench/merge_results.py

# ---- package --------------------------------------------------------------
# Wheel + sdist, npm main + linux-x64-gnu packages, C tarball: docs/packaging.md.
package:
	bash packaging/package.sh

clean:
	$(CARGO) clean
