#!/usr/bin/env bash
# Benchmarks behind docs/benchmarks.md, "## Agent" and "## Replay" (not a
# test: run it on a quiet machine).
#
#   tests/replay/bench_agent_replay.sh [REE] [THREADS] [REPEATS]
#
# Agent: tokens/s of `ree agent` generation (prefill + decode, from its
#   --json generation_seconds) with the session recorded (--export, and
#   --export --probe layers) and without (no --export), alternating runs,
#   median of REPEATS; and the recording code's own time as a share of the
#   generation time, which run-to-run noise does not blur: per step (--json
#   step_recording_seconds: building the step record and writer.step, inside
#   the decode loop) and in all (recording_seconds: also the turn start/end
#   records, the turn-end fdatasync and the turn-end KV-cache hash).
# Replay: a long single-turn session (500 steps) and a multi-turn chat with
#   the sample model, replayed --strict teacher-forced and --regenerate; the
#   ratio is original generation time (the agent's generation_seconds, summed
#   over turns) / replay time (replay's own "seconds"). Model loading is
#   excluded on both sides; the replay includes its strict checks (KV-cache
#   hashes at every checkpoint).
# Environment: WORK (scratch folder, default /tmp/ree-agent-bench), PARTS
# ("agent replay" by default: which halves to run).
set -euo pipefail
REE=${1:-build/bin/ree}
THREADS=${2:-$(nproc)}
REPEATS=${3:-5}
WORK=${WORK:-/tmp/ree-agent-bench}
PARTS=${PARTS:-agent replay}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$WORK"

py() { python3 -c "$@"; }
median() { py "import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }
field() { py "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

echo "machine: $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "ree: $("$REE" --version)"
echo "threads: $THREADS, repeats: $REPEATS"

"$REE" synth --shape stories110m --dtype bf16 --format hf --out "$WORK/stories110m" --force >/dev/null
"$REE" synth --shape stories15m --dtype f32 --format hf --out "$WORK/stories15m" --force >/dev/null

# --- Agent: recording on vs off --------------------------------------------------
agent_rate() {  # MODEL MAX_TOKENS EXTRA... -> tokens/s
  local model=$1 max=$2
  shift 2
  "$REE" agent --model "$model" --prompt "Once upon a time there was a" --max-tokens "$max" \
    --threads "$THREADS" --json "$@" >"$WORK/agent.json" 2>/dev/null
  field "$WORK/agent.json" tokens_per_second
}
if [[ " $PARTS " == *" agent "* ]]; then
echo
echo "## agent: recording cost (tokens/s, median of $REPEATS)"
for spec in "stories15m 240" "stories110m 400"; do
  set -- $spec
  model=$WORK/$1 max=$2
  off=() on=() probes=() share=() all=()
  for ((i = 0; i < REPEATS; i++)); do
    off+=("$(agent_rate "$model" "$max")")
    on+=("$(agent_rate "$model" "$max" --export "$WORK/s.fb" --overwrite)")
    share+=("$(py "import json; j=json.load(open('$WORK/agent.json')); print(100*j['step_recording_seconds']/j['generation_seconds'])")")
    all+=("$(py "import json; j=json.load(open('$WORK/agent.json')); print(100*j['recording_seconds']/j['generation_seconds'])")")
    probes+=("$(agent_rate "$model" "$max" --export "$WORK/s.fb" --overwrite --probe layers)")
  done
  m_off=$(median "${off[@]}") m_on=$(median "${on[@]}") m_pr=$(median "${probes[@]}") m_share=$(median "${share[@]}") m_all=$(median "${all[@]}")
  py "print(f'$1 ($max tokens): off {$m_off:.1f}  on {$m_on:.1f} ({100*(1-$m_on/$m_off):+.2f}% cost)  on+probes {$m_pr:.1f} ({100*(1-$m_pr/$m_off):+.2f}% cost); recording code: steps {$m_share:.3f}%, all {$m_all:.3f}% of generation time')"
  echo "  runs off: ${off[*]}"
  echo "  runs on:  ${on[*]}"
done
fi
[[ " $PARTS " == *" replay "* ]] || exit 0

# --- Replay: teacher-forced vs regenerated vs the original generation ------------
replay_secs() {  # SESSION EXTRA... -> seconds
  local s=$1
  shift
  "$REE" replay "$s" --strict --threads "$THREADS" --json "$@" >"$WORK/replay.json" 2>/dev/null
  [ "$(field "$WORK/replay.json" status)" = verified ] || { echo "replay did not verify" >&2; exit 1; }
  field "$WORK/replay.json" seconds
}
echo
echo "## replay --strict: seconds (median of $REPEATS) and speed-up over the original generation"
long=$WORK/long.fb
gen=()
for ((i = 0; i < REPEATS; i++)); do
  "$REE" agent --model "$WORK/stories110m" --prompt "Once upon a time there was a" --max-tokens 500 \
    --threads "$THREADS" --export "$long" --overwrite --json >"$WORK/agent.json" 2>/dev/null
  gen+=("$(field "$WORK/agent.json" generation_seconds)")
done
steps=$(field "$WORK/agent.json" steps)
chat=$WORK/chat.fb
if [ -f "$SRC/samples/sample-model/model.safetensors" ]; then
  printf '%s\n' "Hello!" "What is 12 times 7?" "And 15 divided by 4?" "What time is it?" "Thanks!" \
    "What can you do?" "What is 3.5 plus 2.25?" "Bye" >"$WORK/chat.txt"
  "$REE" agent --model "$SRC/samples/sample-model" --threads "$THREADS" --export "$chat" --overwrite --json \
    <"$WORK/chat.txt" >"$WORK/chat.json" 2>/dev/null
fi
report() {  # NAME SESSION ORIGINAL_SECONDS STEPS
  local tf=() rg=()
  for ((i = 0; i < REPEATS; i++)); do
    tf+=("$(replay_secs "$2")")
    rg+=("$(replay_secs "$2" --regenerate)")
  done
  local m_tf m_rg
  m_tf=$(median "${tf[@]}") m_rg=$(median "${rg[@]}")
  py "print(f'$1: {$4} steps; generation {$3:.3f} s; teacher-forced {$m_tf:.3f} s ({$3/$m_tf:.1f}x faster); regenerated {$m_rg:.3f} s ({$3/$m_rg:.2f}x)')"
}
report "stories110m bf16, one turn" "$long" "$(median "${gen[@]}")" "$steps"
if [ -f "$chat" ]; then
  report "sample model, 8-message chat with tool calls" "$chat" "$(field "$WORK/chat.json" generation_seconds)" \
    "$(field "$WORK/chat.json" steps)"
fi
