#!/usr/bin/env bash
# Whole-process comparison on flights_delay (800k train rows, 200k test rows),
# Modelsmith against XGBoost 1.7 (hist, lossguide, 31 leaves, 255 bins, eta 0.1,
# 100 rounds, 2 threads) reading the same .csv.gz with pandas. Run side by side,
# in the same minute, and compare as ratios: absolute times drift on shared
# machines. Needs /usr/bin/python3 with python3-xgboost, python3-pandas and
# python3-sklearn (apt-get install python3-xgboost python3-pandas python3-sklearn).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${DATASETS:-../shared/datasets}/flights_delay
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/modelsmith" .
ws="$tmp/bench.modelsmith"
"$tmp/modelsmith" --workspace "$ws" --empty datasets >/dev/null

measure() { # label command...: wall seconds and peak RSS of the whole process
  local label=$1; shift
  /usr/bin/time -f "$label: %e s wall, %U s user, %M KB peak RSS" "$@" 2>&1 >/dev/null | grep -E "^$label:|AUC|error" || true
}

echo "== train (read .csv.gz + train)"
measure modelsmith "$tmp/modelsmith" --workspace "$ws" train --data "$data/train.csv.gz" --target delayed --algo gbdt \
  --set n_estimators=100 --set num_leaves=31 --set max_bin=255 --set learning_rate=0.1 --holdout 0 --name flights
measure xgboost /usr/bin/python3 scripts/xgb_process.py train "$data/train.csv.gz" "$tmp/xgb.json"

echo "== predict (read .csv.gz + predict + write CSV, 200k rows)"
measure modelsmith "$tmp/modelsmith" --workspace "$ws" predict --model flights --data "$data/test.csv.gz" --out "$tmp/ours.csv"
measure xgboost /usr/bin/python3 scripts/xgb_process.py predict "$tmp/xgb.json" "$data/test.csv.gz" "$tmp/xgb.csv"

echo "== test AUC"
"$tmp/modelsmith" --workspace "$ws" evaluate --model flights --data "$data/test.csv.gz" | grep -E "roc_auc|accuracy"
/usr/bin/python3 scripts/xgb_process.py predict "$tmp/xgb.json" "$data/test.csv.gz" /dev/null 2>&1 | grep AUC
