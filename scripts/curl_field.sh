#!/usr/bin/env bash
# Reproduces the curl-field study: trains the agents through the protocol, records their
# preparatory states, and writes runs/curl-field-<mode>/report.{json,md} with figures.
#   scripts/curl_field.sh quick   # 4 seeds, small budgets
#   scripts/curl_field.sh full    # 10 seeds, all pretraining variants and the drift control
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-quick}
case "$mode" in
  quick) cfg=scripts/configs/curl_field_quick.toml ;;
  full) cfg=scripts/configs/curl_field_full.toml ;;
  *) echo "usage: $0 quick|full" >&2; exit 2 ;;
esac
cargo build --release --quiet
exec target/release/engram experiment curl-field --config "$cfg" --out "runs/curl-field-$mode" --jobs "${JOBS:-2}"
