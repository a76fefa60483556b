#!/usr/bin/env bash
# A new user's first result (issue #14): the README's two commands, taken from README.md,
# on a fresh clone of this repository's HEAD (an empty target/), one after the other, timed.
# The crates are fetched first and not counted (a new user's download speed is not ours).
# Run it with nothing else running; it takes 10–15 minutes on 2 cores.
#   bench/first-result.sh           # prints the times; the clone is removed afterwards
#   bench/first-result.sh --keep    # keeps the clone and its logs, and says where
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
keep="${1:-}"
dir="$(mktemp -d)"
if [ "$keep" != --keep ]; then
  trap 'rm -rf "$dir"' EXIT
fi
git clone --quiet "$repo" "$dir/hcount"
cd "$dir/hcount"
main="$(grep -m1 '^for y in .*cargo run --locked -- run ' README.md)"
tests="$(grep -m1 '^cargo test' README.md)"
cargo fetch --locked --quiet

# Runs a command (a bash string) with its output in $dir/<log>; if it fails, shows the log's
# end and stops.
run_logged() {
  local what="$1" log="$dir/$2" command="$3"
  if ! bash -c "set -e; $command" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "first-result: $what failed (log: $log)" >&2
    exit 1
  fi
}

t0=$(date +%s)
run_logged "the main command" main.log "$main"
t1=$(date +%s)
# The README's test command, timed in two parts: building the tests, then running them.
run_logged "building the tests" test-build.log "cargo test --locked --no-run"
t2=$(date +%s)
run_logged "the tests" test.log "$tests"
t3=$(date +%s)

build="$(grep -m1 -oE 'Finished `dev` profile .* in .*' "$dir/main.log" | sed -E 's/.* in //')"
total=$((t3 - t0))
echo "commit:                 $(git rev-parse --short HEAD)"
echo "main command:           $((t1 - t0)) s (the debug build: $build)"
echo "test build on top:      $((t2 - t1)) s"
echo "test run:               $((t3 - t2)) s"
echo "together:               $total s ($((total / 60)) min $((total % 60)) s); target ≤ 720 s: $([ "$total" -le 720 ] && echo met || echo 'not met')"
grep -E '^test result' "$dir/test.log" | sed 's/^/  /'
if [ "$keep" = --keep ]; then
  echo "clone and logs: $dir"
fi
