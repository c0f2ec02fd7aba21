#!/usr/bin/env bash
# Path-pattern benchmark (issue 19, defect 1): the adversarial lists a project may hold
# (100 patterns of up to 200 characters in each of include and exclude), parsed and matched
# natively in a release build: parse ms, µs per path for `admits` and per directory for the
# walk's questions. The wasm build runs the same code, slower by a small factor.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo test --release --quiet --lib worst_pattern_costs -- --ignored --nocapture
