#!/usr/bin/python3
"""XGBoost baseline for ml/learn/gbdt's flights benchmarks.

Same data and settings as BenchmarkFitFlights / BenchmarkPredictFlights:
hist, lossguide, 31 leaves, unlimited depth, 255 bins, eta 0.1, 100 rounds,
origin/destination as native categoricals, 2 threads.

    /usr/bin/python3 scripts/xgb_flights.py [datasets dir]
"""
import os
import sys
import time

import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score

here = os.path.dirname(os.path.abspath(__file__))
root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "shared", "datasets")
d = os.path.join(root, "flights_delay")

train = pd.read_csv(os.path.join(d, "train.csv.gz"))
test = pd.read_csv(os.path.join(d, "test.csv.gz"))
cats = ["origin", "destination"]
for c in cats:
    levels = sorted(train[c].dropna().unique())
    train[c] = pd.Categorical(train[c], categories=levels)
    test[c] = pd.Categorical(test[c], categories=levels)
y_train, y_test = train.pop("delayed"), test.pop("delayed")

params = dict(
    objective="binary:logistic", tree_method="hist", grow_policy="lossguide",
    max_leaves=31, max_depth=0, max_bin=255, eta=0.1, nthread=2,
    eval_metric="logloss",
)
t0, c0 = time.perf_counter(), time.process_time()
dtrain = xgb.DMatrix(train, label=y_train, enable_categorical=True, nthread=2)
booster = xgb.train(params, dtrain, num_boost_round=100)
fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0

dtest = xgb.DMatrix(test, enable_categorical=True, nthread=2)
p = booster.predict(dtest)
auc = roc_auc_score(y_test, p)

# predict_proba through the sklearn wrapper, timed on the 200k test rows.
clf = xgb.XGBClassifier(n_estimators=100, tree_method="hist", grow_policy="lossguide",
                        max_leaves=31, max_depth=0, max_bin=255, learning_rate=0.1,
                        n_jobs=2, enable_categorical=True)
clf.fit(train, y_train)
best, best_cpu = float("inf"), float("inf")
for _ in range(5):
    t0, c0 = time.perf_counter(), time.process_time()
    clf.predict_proba(test)
    best = min(best, time.perf_counter() - t0)
    best_cpu = min(best_cpu, time.process_time() - c0)

print(f"xgboost {xgb.__version__}")
print(f"fit seconds (DMatrix + 100 rounds): {fit_s:.3f} wall, {fit_cpu:.3f} CPU")
print(f"test AUC: {auc:.5f}")
print(f"predict_proba rows/s: {len(test) / best:.0f} wall ({best:.3f} s for {len(test)} rows), {len(test) / best_cpu:.0f} per CPU second")
