#!/usr/bin/env bash
# AutoML on datasets it was never tuned on (issue 5: "the same must hold on
# datasets you have never seen"): scripts/unseen_datasets.py writes wine,
# digits, a generated binary table, Friedman #1 regression and a mixed table
# of numbers, categories and missing cells, with the peers (scikit-learn
# HistGradientBoosting, RandomForest, linear; XGBoost when installed) scored on
# each; then scripts/bench_automl.sh runs `automl --time 60s` on them and
# prints our test metric beside the best peer's.
# Needs python3-sklearn and python3-pandas; BENCH_TIME and BENCH_ONLY as for
# bench_automl.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! /usr/bin/python3 -c 'import sklearn, pandas' 2>/dev/null; then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "bench_unseen: installing python3-sklearn python3-pandas" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-sklearn python3-pandas >/dev/null
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "bench_unseen: writing the datasets and scoring the peers" >&2
/usr/bin/python3 scripts/unseen_datasets.py "$out" 2>/dev/null
DATASETS="$out" BENCH="$out" scripts/bench_automl.sh
