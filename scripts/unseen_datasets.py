#!/usr/bin/env python3
"""Datasets AutoML was never tuned on, with the issue's peers scored on them.

Issue 5 asks that AutoML beat the peers "on datasets you have never seen".
This writes, into OUT, folders laid out like ../shared/datasets (meta.json,
train.csv, test.csv; a fixed 75/25 split) from scikit-learn's bundled and
generated data, and OUT/peers_public.jsonl with what HistGradientBoosting,
RandomForest, a scaled linear model and (when installed) XGBoost score on
each test split. scripts/bench_unseen.sh runs scripts/bench_automl.sh on them.

Needs python3-sklearn and python3-pandas (Debian); python3-xgboost optional.

    /usr/bin/python3 scripts/unseen_datasets.py OUT
"""
import json
import os
import sys

import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn.compose import make_column_transformer
from sklearn.ensemble import (HistGradientBoostingClassifier, HistGradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

try:
    import xgboost
except ImportError:
    xgboost = None


def mixed(n, seed):
    """Numbers, categories (one of 40 levels) and missing cells; a binary
    target from a logistic model with an interaction and a category effect."""
    rng = np.random.default_rng(seed)
    age = rng.normal(45, 12, n).round()
    income = np.exp(rng.normal(10, 0.6, n)).round(-2)
    city = rng.choice([f"city_{i:02d}" for i in range(40)], n)
    plan = rng.choice(["basic", "plus", "pro"], n, p=[0.6, 0.3, 0.1])
    visits = rng.poisson(3, n).astype(float)
    effect = {c: e for c, e in zip(sorted(set(city)), rng.normal(0, 0.8, 40))}
    z = (0.04 * (age - 45) + 0.8 * (plan == "pro") - 0.5 * (plan == "basic") + 0.3 * visits
         - 0.02 * visits * (age - 45) + np.vectorize(effect.get)(city) + 0.6 * (np.log(income) - 10) - 0.8)
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-z)), "churn", "stay")
    X = pd.DataFrame({"age": age, "income": income, "city": city, "plan": plan, "visits": visits})
    for col in ("income", "visits", "plan"):
        X.loc[rng.random(n) < 0.08, col] = np.nan
    return X, y


def peers(task, cat_cols, num_cols, seed=0):
    ordinal = make_column_transformer(
        (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1), cat_cols),
        remainder="passthrough")
    scaled = make_column_transformer(
        (make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")), cat_cols),
        (make_pipeline(SimpleImputer(), StandardScaler()), num_cols))
    if task == "regression":
        ms = {"hgb": make_pipeline(ordinal, HistGradientBoostingRegressor(random_state=seed)),
              "rf": make_pipeline(ordinal, SimpleImputer(), RandomForestRegressor(n_estimators=300, n_jobs=2, random_state=seed)),
              "linear": make_pipeline(scaled, Ridge())}
        if xgboost:
            ms["xgb"] = make_pipeline(ordinal, xgboost.XGBRegressor(n_jobs=2))
    else:
        ms = {"hgb": make_pipeline(ordinal, HistGradientBoostingClassifier(random_state=seed)),
              "rf": make_pipeline(ordinal, SimpleImputer(), RandomForestClassifier(n_estimators=300, n_jobs=2, random_state=seed)),
              "linear": make_pipeline(scaled, LogisticRegression(max_iter=5000))}
        if xgboost:
            ms["xgb"] = make_pipeline(ordinal, xgboost.XGBClassifier(n_jobs=2))
    return ms


def save(out, name, X, y, task, source, rows):
    if not isinstance(X, pd.DataFrame):
        X = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    strat = y if task != "regression" else None
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=strat)
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    Xtr.assign(target=ytr).to_csv(os.path.join(d, "train.csv"), index=False)
    Xte.assign(target=yte).to_csv(os.path.join(d, "test.csv"), index=False)
    json.dump({"name": name, "task": task, "target": "target", "rows": len(X), "train_rows": len(Xtr),
               "test_rows": len(Xte), "files": {"train": "train.csv", "test": "test.csv"},
               "split": "sklearn train_test_split(test_size=0.25, random_state=0, stratify for classes)",
               "source": source}, open(os.path.join(d, "meta.json"), "w"), indent=1)
    cat_cols = [c for c in X.columns if X[c].dtype == object]
    num_cols = [c for c in X.columns if c not in cat_cols]
    classes = np.unique(ytr) if task != "regression" else None
    for model, m in peers(task, cat_cols, num_cols).items():
        yfit = ytr if classes is None else np.searchsorted(classes, ytr)
        m.fit(Xtr, yfit)
        row = {"dataset": name, "task": task, "model": model}
        if task == "regression":
            row["r2"] = r2_score(yte, m.predict(Xte))
        else:
            p = m.predict_proba(Xte)
            yi = np.searchsorted(classes, yte)
            row["accuracy"] = accuracy_score(yi, p.argmax(1))
            if task == "binary":
                row["roc_auc"] = roc_auc_score(yi, p[:, 1])
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rows = []
    d = datasets.load_wine(as_frame=True)
    save(out, "wine", d.data, np.array([f"c{v}" for v in d.target]), "multiclass", "sklearn load_wine", rows)
    d = datasets.load_digits()
    save(out, "digits", d.data, np.array([f"d{v}" for v in d.target]), "multiclass", "sklearn load_digits", rows)
    X, y = datasets.make_classification(n_samples=20000, n_features=30, n_informative=12, n_redundant=6,
                                        flip_y=0.05, class_sep=0.8, random_state=1)
    save(out, "synth_binary", X, np.where(y == 1, "yes", "no"), "binary", "sklearn make_classification", rows)
    X, y = datasets.make_friedman1(n_samples=5000, noise=1.0, random_state=2)
    save(out, "friedman1", X, y, "regression", "sklearn make_friedman1", rows)
    X, y = mixed(8000, 3)
    save(out, "mixed_churn", X, y, "binary", "scripts/unseen_datasets.py mixed()", rows)
    with open(os.path.join(out, "peers_public.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
