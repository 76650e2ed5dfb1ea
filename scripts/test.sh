#!/usr/bin/env bash
# Runs every test file with node's own test runner (TypeScript through tsx).
# End-to-end tests run the built CLI (bin/run.js → lib/), so build first.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s globstar nullglob
files=(test/**/*.test.ts)
exec node --import tsx --test --test-reporter=spec --test-concurrency=2 "${files[@]}"
