#!/usr/bin/env bash
# The main job on the bundled sample model, start to finish:
#   1. an agent session with a tool call, recorded to a session file
#   2. its receipt verified, then a strict replay (re-execution, bit for bit)
#   3. a second recording that diverges (fast mode, other thread count)
#   4. a diff of the two, naming the first difference
# Run scripts/bootstrap.sh first (the README's first command does both).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${REE_BUILD_DIR:-build}
ree="$build_dir/bin/ree"
out=${REE_DEMO_DIR:-demo-out}
[ -x "$ree" ] || { echo "demo: $ree not found: run scripts/bootstrap.sh first" >&2; exit 2; }
mkdir -p "$out"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

question="What is 1234 * 5678?"
say "1. Record an agent session (reproducible mode, the bundled sample model)"
show "$ree" agent --prompt "$question" --export "$out/session.fb" --overwrite --stream --record-top-k 8

say "2. Verify its receipt, then replay it strictly (every token, logits hash and top-k)"
show "$ree" verify "$out/session.fb"
show "$ree" replay "$out/session.fb" --strict

say "3. Record the same question in fast mode with one thread: a different arithmetic"
show "$ree" agent --prompt "$question" --export "$out/session-fast.fb" --overwrite \
  --mode fast --threads 1 --record-top-k 8 >/dev/null

say "4. Diff the two sessions"
set +e
"$ree" diff "$out/session.fb" "$out/session-fast.fb"
status=$?
set -e
echo "(ree diff exit code: $status — 0 identical, 1 different)"

say "Next"
cat <<TXT
  $ree inspect $out/session.fb            # the session: turns, tool calls, steps with token boundaries
  $ree replay $out/session-fast.fb --strict   # a fast-mode session does not replay in reproducible mode
  $build_dir/bin/ree-view $out/session.fb $out/session-fast.fb   # look at the divergence
TXT
