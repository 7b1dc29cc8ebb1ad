#!/usr/bin/env bash
# Reproduces the sim-to-real study: trains {MLP, GRU, LSTM} x {randomization on, off} x seeds
# on the walker, evaluates them on the training sim, 10 fixed in-range parameter sets and the
# held-out robots R1-R4, probes their memory for the dynamics parameters, and writes
# runs/sim2real-<mode>/report.{json,md} with figures.
#   scripts/sim2real.sh quick   # 3 seeds x 250k steps (see docs/benchmarks.md for its time)
#   scripts/sim2real.sh full    # 5 seeds x 1M steps, est. 45-60 min on 2 quiet cores
# Resumable: run it again after an interruption. JOBS=N sets the parallel jobs (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-quick}
case "$mode" in
  quick) cfg=scripts/configs/sim2real_quick.toml ;;
  full) cfg=scripts/configs/sim2real_full.toml ;;
  *) echo "usage: $0 quick|full" >&2; exit 2 ;;
esac
cargo build --release --quiet -p engram-agents
exec target/release/engram experiment sim2real --config "$cfg" --out "runs/sim2real-$mode" --jobs "${JOBS:-2}"
