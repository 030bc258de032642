#!/usr/bin/env bash
# AutoML against the peers (issue 5): for every tabular dataset in
# ../shared/datasets (a folder whose meta.json names a task, a target and CSV
# train/test files), run the whole command
#   modelsmith automl --data <train file> --target <target> --time 60s
# as one process (importing the file included), timed with its peak RSS by
# /usr/bin/time, then `modelsmith evaluate` of the registered model on the test
# file, and print our test metric (ROC AUC binary, accuracy multiclass, R²
# regression) beside the best peer's from ../shared/bench/*_public.jsonl.
#
# Pass means: test metric >= best peer - tolerance (0.005 AUC/accuracy, 0.01
# R², and at least 1/rows on test sets under 1,000 rows), the automl command
# ended within budget + 5 s, and its peak RSS stayed under 2 GB.
#
# Environment: DATASETS (default ../shared/datasets), BENCH (../shared/bench),
# BENCH_TIME (60s), BENCH_ONLY (space-separated dataset names, default all).
# Timings on a shared 2-core machine are noisy: note what else was running.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${DATASETS:-../shared/datasets}
bench=${BENCH:-../shared/bench}
budget=${BENCH_TIME:-60s}
only=${BENCH_ONLY:-}

if [[ ! -x /usr/bin/time ]]; then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "bench: installing GNU time" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends time >/dev/null
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/modelsmith" .
results="$tmp/results.jsonl"
: >"$results"

# name task target train test test_rows, one line per tabular dataset.
python3 - "$data" "$only" >"$tmp/datasets.txt" <<'EOF'
import json, os, sys
root, only = sys.argv[1], sys.argv[2].split()
for name in sorted(os.listdir(root)):
    path = os.path.join(root, name, "meta.json")
    if not os.path.isfile(path) or (only and name not in only):
        continue
    meta = json.load(open(path))
    files = meta.get("files", {})
    train, test = files.get("train", ""), files.get("test", "")
    if meta.get("task") not in ("binary", "multiclass", "regression") or not meta.get("target"):
        continue
    if not all(f.endswith((".csv", ".csv.gz")) for f in (train, test)):
        continue  # image folders and other layouts
    print(name, meta["task"], meta["target"], os.path.join(root, name, train), os.path.join(root, name, test),
          meta.get("test_rows", 0))
EOF

while read -r name task target train test test_rows; do
  ws="$tmp/$name.modelsmith"
  "$tmp/modelsmith" --workspace "$ws" --empty datasets >/dev/null
  echo "== $name: automl --time $budget" >&2
  status=0
  /usr/bin/time -v -o "$tmp/$name.time" "$tmp/modelsmith" --workspace "$ws" automl --data "$train" --target "$target" \
    --time "$budget" --name "$name" --json >"$tmp/$name.automl.json" 2>"$tmp/$name.automl.err" || status=$?
  if ((status != 0)); then
    echo "   automl failed (exit $status): $(tail -1 "$tmp/$name.automl.err")" >&2
  fi
  tail -3 "$tmp/$name.automl.err" | sed 's/^/   /' >&2
  estatus=0
  start=$(date +%s.%N)
  "$tmp/modelsmith" --workspace "$ws" evaluate --model "$name" --data "$test" --json >"$tmp/$name.eval.json" \
    2>"$tmp/$name.eval.err" || estatus=$?
  end=$(date +%s.%N)
  python3 - "$name" "$task" "$test_rows" "$status" "$estatus" "$tmp/$name.time" "$tmp/$name.automl.json" \
    "$tmp/$name.eval.json" "$start" "$end" >>"$results" <<'EOF'
import json, sys
name, task, test_rows, status, estatus, timef, automlf, evalf, start, end = sys.argv[1:]
wall = rss = None
for line in open(timef):
    line = line.strip()
    if line.startswith("Elapsed (wall clock) time"):
        parts = [float(p) for p in line.rsplit(" ", 1)[1].split(":")]
        wall = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    elif line.startswith("Maximum resident set size"):
        rss = int(line.rsplit(" ", 1)[1]) / 1024
metric = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}[task]
row = {"dataset": name, "task": task, "metric": metric, "test_rows": int(test_rows), "wall_s": wall, "rss_mb": rss,
       "predict_s": float(end) - float(start), "ours": None, "model": "", "trials": 0}
if status == "0":
    res = json.load(open(automlf))
    row["model"] = res["model"]["algorithm"]
    row["trials"] = sum(1 for r in res["leaderboard"] if r["trial"] >= 0)
if estatus == "0":
    row["ours"] = json.load(open(evalf))["metrics"].get(metric)
print(json.dumps(row))
EOF
done <"$tmp/datasets.txt"

python3 - "$results" "$bench" "$budget" <<'EOF'
import json, os, re, sys
results, bench, budget = sys.argv[1:]
m = re.fullmatch(r"([0-9.]+)(ms|s|m|h)?", budget)
scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}
limit = float(m.group(1)) * scale[m.group(2)] + 5 if m else 65
peers = {}
for f in ("peers_public.jsonl", "extras_public.jsonl"):
    path = os.path.join(bench, f)
    if not os.path.exists(path):
        continue
    for line in open(path):
        if line.strip():
            r = json.loads(line)
            peers.setdefault(r["dataset"], []).append(r)
fmt = "%-19s %-9s %8s %8s %-13s %8s %7s %-5s %7s %7s %8s %6s"
print(fmt % ("dataset", "metric", "ours", "peer", "(model)", "diff", "tol", "pass", "wall s", "RSS MB", "predict", "trials"))
failed = 0
for line in open(results):
    r = json.loads(line)
    metric = r["metric"]
    cands = [(p[metric], p["model"]) for p in peers.get(r["dataset"], []) if p.get(metric) is not None]
    best, who = max(cands) if cands else (None, "-")
    tol = 0.01 if metric == "r2" else 0.005
    if 0 < r["test_rows"] < 1000:
        tol = max(tol, 1 / r["test_rows"])
    ours = r["ours"]
    ok = ours is not None and (best is None or ours >= best - tol)
    ok = ok and r["wall_s"] is not None and r["wall_s"] <= limit and (r["rss_mb"] or 0) < 2048
    failed += not ok
    num = lambda v, f="%.4f": "-" if v is None else f % v
    diff = None if ours is None or best is None else ours - best
    print(fmt % (r["dataset"], metric, num(ours), num(best), "(" + who + ")", num(diff, "%+.4f"), num(tol),
                 "PASS" if ok else "FAIL", num(r["wall_s"], "%.1f"), num(r["rss_mb"], "%.0f"),
                 num(r["predict_s"], "%.2f"), r["trials"]))
print(f"\nwall: the whole automl command (import included), limit {limit:.0f} s; RSS: its peak; predict: the "
      "whole evaluate command on the test file (read, predict, score). Pass: metric >= peer - tol, wall and RSS "
      "within limits.")
sys.exit(1 if failed else 0)
EOF
