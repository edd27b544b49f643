#!/usr/bin/env bash
# Build ree and run the whole test suite (what CI runs: .ci/run).
# GPU tests carry the label "gpu" and skip when no GPU is visible.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
build_dir=${REE_BUILD_DIR:-build}
ctest --test-dir "$build_dir" --output-on-failure -j "${REE_TEST_JOBS:-$(nproc)}" "$@"
