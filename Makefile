# parsec-teams: the front door.
#   make demo   set everything up and run the onboarding demo of every language against the embedded mock
#   make test   every test of every layer (what CI runs: .ci/run)
#   make generate  after changing the core's tables: the description and every file generated from it
#   make bench  every benchmark; results in bench/RESULTS.md
#   make package  every release artifact into dist/, each checked (docs/packaging.md)
#   make fuzz     every fuzz target for FUZZ_SECONDS (default 300) each; fuzz-smoke (20 s each) is part of `make test`
#   make soak     10 minutes (SOAK_SECONDS) of Python, Node and C clients against the release mock, RSS recorded (docs/soak.md)
# Needs only Rust (cargo with clippy and rustfmt), Python 3, Node + npm and a C compiler;
# everything else comes from crates.io, PyPI and npm into folders of this repo.

CARGO ?= cargo
export CARGO_TERM_COLOR ?= never
# Every cargo build of every layer targets the host triple explicitly, as the
# napi CLI always does: the Python, Node and C release builds then share one
# target/<triple>/release instead of compiling the dependency tree twice.
export CARGO_BUILD_TARGET ?= $(shell rustc -vV | sed -n 's/^host: //p')
BINDINGS := bindings-python bindings-node bindings-c bindings-kotlin

.PHONY: all build demo demo-rust test test-rust lint bench bench-rust bench-results clean check-versions check-description describe generate generate-docs check-docs conformance package fuzz fuzz-build fuzz-smoke soak \
	$(addprefix demo-,python node c kotlin) $(addprefix test-,python node c kotlin) $(addprefix bench-,python node c kotlin)

all: build

build:
	$(CARGO) build --workspace --all-targets

# ---- demo -----------------------------------------------------------------
demo: demo-rust demo-python demo-node demo-c demo-kotlin

demo-rust:
	$(CARGO) run --quiet -p parsec-teams --example onboard

demo-python demo-node demo-c: demo-%:
	$(MAKE) -C bindings-$* demo

# The Kotlin demo lives in examples/kotlin (it builds bindings-kotlin's jar first).
demo-kotlin:
	$(MAKE) -C examples/kotlin demo

# ---- test -----------------------------------------------------------------
# The layers in order, each timed (CI's budget is 40 minutes from a cold clone).
TEST_LAYERS := check-versions check-description check-docs lint test-rust test-python test-node test-c test-kotlin conformance fuzz-smoke
test:
	@set -e; start=$$(date +%s); for layer in $(TEST_LAYERS); do \
		t=$$(date +%s); $(MAKE) --no-print-directory $$layer; \
		echo "make test: $$layer passed in $$(( $$(date +%s) - t )) s"; \
	done; echo "make test: every layer passed in $$(( $$(date +%s) - start )) s"

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# One version (Cargo.toml's [workspace.package]) in every package: docs/versioning.md.
check-versions:
	python3 packaging/versions.py

# The SDK's description (docs/description.json) from the core's tables: `make describe`
# regenerates it; `check-description` fails when the checked-in copy is stale.
describe:
	$(CARGO) run --quiet -p parsec-teams-describe -- docs/description.json

check-description:
	@tmp=$$(mktemp) && $(CARGO) run --quiet -p parsec-teams-describe -- "$$tmp" && \
	{ diff -u docs/description.json "$$tmp" >/dev/null || { diff -u docs/description.json "$$tmp" | head -40; rm -f "$$tmp"; \
	  echo "docs/description.json is stale: run make describe"; exit 1; }; } && rm -f "$$tmp" && echo "docs/description.json is fresh"

# The reference (docs/reference/*.md) from the description: `make generate-docs`
# rewrites it; `check-docs` fails when a generated page is stale, and tests the
# generator (every operation, option and error listed; examples parse). It also
# writes core/tests/reference_calls.rs, which runs every Rust call of the reference.
generate-docs:
	python3 codegen/docs/generate.py

check-docs:
	python3 codegen/docs/generate.py --check
	python3 codegen/docs/test_generate.py -q

# After a change to the core's tables (CONTRIBUTING.md, "Adding an operation"):
# the description, then every file generated from it.
generate:
	$(MAKE) describe
	$(MAKE) generate-docs
	$(MAKE) -C bindings-python generate
	$(MAKE) -C bindings-node generate
	$(MAKE) -C bindings-c header
	$(MAKE) -C bindings-kotlin generate

# The core's suites run a second time on the transport of Kotlin's blocking
# calls (one connection of the caller's own: core/tests/common/mod.rs). Named
# with --workspace, they keep the first run's features: nothing is rebuilt.
CORE_SUITES := $(patsubst core/tests/%.rs,%,$(wildcard core/tests/*.rs))
test-rust:
	$(CARGO) test --workspace --no-fail-fast
	PARSEC_TEAMS_TEST_TRANSPORT=connection $(CARGO) test --workspace --no-fail-fast $(addprefix --test ,$(CORE_SUITES))

test-python test-node test-c: test-%:
	$(MAKE) -C bindings-$* test

# Kotlin: freshness of the generated layer, the JUnit suite and the Java program.
# Its cargo tests run in test-rust and its conformance surface in `conformance`
# (both part of `test`); `make -C bindings-kotlin test` runs all of them alone.
test-kotlin:
	$(MAKE) -C bindings-kotlin check-generated junit java-test

# The cross-language conformance scenarios (tests/conformance/README.md): one line
# per surface (Rust, Python sync and async, Node, C, Kotlin),
# `conformance <surface>: P passed, F failed`; part of `test`.
conformance:
	@bash tests/conformance/run.sh

# ---- bench ----------------------------------------------------------------
bench: bench-rust bench-python bench-node bench-c bench-kotlin bench-results

bench-rust:
	bash bench/run.sh

bench-python bench-node bench-c: bench-%:
	$(MAKE) -C bindings-$* bench

bench-kotlin:
	$(MAKE) -C bench/kotlin bench

# Gathers each language's results (bench/<lang>/RESULTS.md) into bench/RESULTS.md.
bench-results:
	python3 bench/merge_results.py

# ---- package --------------------------------------------------------------
# Wheel + sdist, npm main + linux-x64-gnu packages, C tarball, Kotlin jar + pom + sources jar: docs/packaging.md.
package:
	bash packaging/package.sh

clean:
	$(CARGO) clean

# ---- fuzz -----------------------------------------------------------------
# cargo-fuzz (libFuzzer with AddressSanitizer and LeakSanitizer) targets in
# fuzz/: a crate of its own (own workspace, Cargo.lock and fuzz/target), built
# with the nightly toolchain where rustup has one, else with stable and
# RUSTC_BOOTSTRAP=1 for this build only. A crash, a leak, an input slower than
# FUZZ_TIMEOUT seconds or more than 2 GB of memory fails the run; the input is
# saved under fuzz/artifacts/<target>/. New inputs go to fuzz/target/corpus/
# (the committed seeds in fuzz/corpus/ are only read). See docs/soak.md.
CARGO_FUZZ_VERSION := 0.13.2
CARGO_FUZZ := $(CURDIR)/.tools/bin/cargo-fuzz
FUZZ_TARGETS := validate_params c_abi mock_routes tape_differential pages kotlin_encoding
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_TIMEOUT ?= 10
FUZZ_NIGHTLY := $(shell rustup toolchain list 2>/dev/null | grep -q '^nightly' && echo +nightly)
FUZZ_CARGO = PATH="$(CURDIR)/.tools/bin:$$PATH" $(if $(FUZZ_NIGHTLY),,RUSTC_BOOTSTRAP=1) cargo $(FUZZ_NIGHTLY) fuzz

# --debug: a tool that only drives cargo builds in a quarter of the release build's time.
$(CARGO_FUZZ):
	cargo install --locked --debug cargo-fuzz --version $(CARGO_FUZZ_VERSION) --root $(CURDIR)/.tools

fuzz-build: $(CARGO_FUZZ)
	$(FUZZ_CARGO) build

# Each target is one single-threaded libFuzzer process: FUZZ_JOBS of them run
# at once (one per core), each for its whole time.
FUZZ_JOBS ?= 2
fuzz fuzz-smoke: fuzz-build
	@$(MAKE) --no-print-directory -j$(FUZZ_JOBS) $(addprefix fuzz-run-,$(FUZZ_TARGETS)) \
		FUZZ_RUN_SECONDS=$(if $(filter fuzz,$@),$(FUZZ_SECONDS),$(FUZZ_SMOKE_SECONDS))

fuzz-run-%:
	@mkdir -p fuzz/target/corpus/$*; log=fuzz/target/$*.log; \
	if $(FUZZ_CARGO) run $* fuzz/target/corpus/$* fuzz/corpus/$* -- -max_total_time=$(FUZZ_RUN_SECONDS) \
		-timeout=$(FUZZ_TIMEOUT) -rss_limit_mb=2048 -print_final_stats=1 >$$log 2>&1; then ok=1; else ok=0; fi; \
	echo "fuzz: $* for $(FUZZ_RUN_SECONDS) s: $$(grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' $$log | tr '\n' ' ')"; \
	[ $$ok = 1 ] || { tail -n 60 $$log; echo "fuzz: $* FAILED (log: $$log; a failing input is saved under fuzz/artifacts/$*/)"; exit 1; }

# ---- soak -----------------------------------------------------------------
soak:
	bash soak/run.sh
