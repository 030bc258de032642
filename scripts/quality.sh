#!/usr/bin/env bash
# Test-split scores of every family with default hyperparameters, trained on
# each public dataset's train file (no hold-out) and evaluated on its test file.
# Compare with ../shared/bench/README.md (ROC AUC for binary, accuracy for
# multiclass, R² for regression). Usage: scripts/quality.sh [algo ...]
set -euo pipefail
cd "$(dirname "$0")/.."
data=${DATASETS:-../shared/datasets}
algos=("$@")
((${#algos[@]})) || algos=(gbdt forest linear nn knn bayes)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/modelsmith" .
ws="$tmp/q.modelsmith"
ms() { "$tmp/modelsmith" --workspace "$ws" "$@"; }
ms --empty datasets >/dev/null
printf "%-20s %-8s %-10s %s\n" dataset algo metric score
for spec in iris:species:accuracy breast_cancer:diagnosis:roc_auc diabetes:progression:r2 \
            adult:income:roc_auc california_housing:median_house_value:r2; do
  IFS=: read -r name target metric <<<"$spec"
  ms import "$data/$name/train.csv" --name "$name" >/dev/null 2>&1
  for algo in "${algos[@]}"; do
    if [[ $algo == bayes && $metric == r2 ]]; then continue; fi
    if ! ms train --data "$name" --target "$target" --algo "$algo" --holdout 0 --name "$name-$algo" >/dev/null 2>"$tmp/err"; then
      printf "%-20s %-8s failed: %s\n" "$name" "$algo" "$(tail -1 "$tmp/err")"
      continue
    fi
    score=$(ms evaluate --model "$name-$algo" --data "$data/$name/test.csv" --json 2>/dev/null |
      /usr/bin/python3 -c "import json,sys; print(round(json.load(sys.stdin)['metrics']['$metric'], 4))")
    printf "%-20s %-8s %-10s %s\n" "$name" "$algo" "$metric" "$score"
  done
done
