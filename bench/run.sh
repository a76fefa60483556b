#!/usr/bin/env bash
# The benchmark in one command:  bench/run.sh [--sizes 100k,1M,10M] [--threads 1,2] [--repeat 3]
# Builds hcount (release), installs DuckDB and Polars from PyPI into bench/.venv, generates
# the plain sets under bench/data/ (cached), runs every tool and writes bench/results/latest.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install --quiet duckdb==2.0.1 polars==2.1.0 pyarrow==26.0.1
fi
exec bench/.venv/bin/python bench/bench.py "$@"
