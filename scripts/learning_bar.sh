#!/usr/bin/env bash
# Produces: runs/bar/<name>/ (config, metrics, curves, checkpoints) for the learning bar of
# issue 5 (CartPole-v1 MLP, Pendulum-v1 MLP, PendulumNoVel-v1 GRU / LSTM / MLP), and prints a
# markdown table (final rolling mean of the last 100 training episodes, and the deterministic
# evaluation over 50 seeded episodes) to paste into docs/results.md.
# Usage: scripts/learning_bar.sh [extra --set overrides applied to every run]
set -euo pipefail
cd "$(dirname "$0")/.."
ENGRAM=${ENGRAM:-target/release/engram}
OUT=${OUT:-runs/bar}
mkdir -p "$OUT"
echo "| run | config | env steps | train mean return (last 100 ep.) | eval mean ± 95% CI (50 ep., deterministic) | wall s |"
echo "|---|---|---|---|---|---|"
for name in cartpole_mlp pendulum_mlp pendulum_novel_gru pendulum_novel_lstm pendulum_novel_mlp; do
  rm -rf "$OUT/$name"
  start=$(date +%s)
  "$ENGRAM" train --config "scripts/configs/$name.toml" --out "$OUT/$name" --quiet "$@" > "$OUT/$name.log"
  wall=$(( $(date +%s) - start ))
  train=$(python3 -c "import json;L=[json.loads(l) for l in open('$OUT/$name/metrics.jsonl')];print(L[-1]['global_step'], round(L[-1]['return_mean'],1))")
  ev=$("$ENGRAM" eval --checkpoint "$OUT/$name" --episodes 50 --json | python3 -c "import json,sys;r=json.load(sys.stdin);print(f\"{r['mean']:.1f} ± {r['ci95']:.1f}\")")
  set -- "$@"
  echo "| $name | scripts/configs/$name.toml | ${train% *} | ${train#* } | $ev | $wall |"
done
