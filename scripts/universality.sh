#!/usr/bin/env bash
# Reproduces the universality study: trains vanilla RNN, GRU and LSTM agents on
# PendulumNoVel-v1 and CurlReach-v0, probes each (fixed points, Lyapunov spectrum), and writes
# runs/universality-<mode>/report.{json,md} with per-env similarity and topology figures.
#   scripts/universality.sh quick   # 3 seeds x 3 architectures x 2 envs, 64 units (~20 min on 2 cores)
#   scripts/universality.sh full    # 6 seeds x 3 architectures x 3 widths x 2 envs
# On a cluster: add --plan-only, then `engram submit --plan runs/universality-<mode> --slurm`.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-quick}
case "$mode" in
  quick) cfg=scripts/configs/universality_quick.toml ;;
  full) cfg=scripts/configs/universality_full.toml ;;
  *) echo "usage: $0 quick|full" >&2; exit 2 ;;
esac
cargo build --release --quiet
exec target/release/engram experiment universality --config "$cfg" --out "runs/universality-$mode" --jobs "${JOBS:-2}"
