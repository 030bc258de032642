#!/usr/bin/env python3
"""XGBoost as a whole process, the peer of `modelsmith train` / `modelsmith predict`
in scripts/bench_flights.sh.

  xgb_process.py train TRAIN.csv.gz MODEL.json   read with pandas, train hist/lossguide
                                                 (31 leaves, 255 bins, eta 0.1, 100 rounds,
                                                 2 threads), save the model
  xgb_process.py predict MODEL.json TEST.csv.gz OUT.csv
                                                 read, predict_proba, write inputs +
                                                 prediction + proba columns with to_csv
Prints the test AUC after predict when the file holds the target. Uses Debian's
python3-xgboost 1.7 and python3-pandas (run with /usr/bin/python3).
"""
import sys

import numpy as np
import pandas as pd
import xgboost as xgb

TARGET = "delayed"
CATS = ["origin", "destination"]


def load(path):
    df = pd.read_csv(path)
    for c in CATS:
        df[c] = df[c].astype("category")
    return df


def train(src, model_path):
    df = load(src)
    y = df.pop(TARGET)
    clf = xgb.XGBClassifier(tree_method="hist", grow_policy="lossguide", max_leaves=31, max_depth=0,
                            max_bin=255, learning_rate=0.1, n_estimators=100, n_jobs=2,
                            enable_categorical=True, max_cat_to_onehot=1)
    clf.fit(df, y)
    clf.save_model(model_path)
    # The categories seen at training, so that predict encodes test data alike.
    with open(model_path + ".cats", "w") as f:
        for c in CATS:
            f.write("\t".join(df[c].cat.categories.astype(str)) + "\n")


def predict(model_path, src, out):
    clf = xgb.XGBClassifier()
    clf.load_model(model_path)
    with open(model_path + ".cats") as f:
        cats = [line.rstrip("\n").split("\t") for line in f]
    df = pd.read_csv(src)
    for c, levels in zip(CATS, cats):
        df[c] = pd.Categorical(df[c], categories=levels)
    X = df.drop(columns=[TARGET]) if TARGET in df else df
    proba = clf.predict_proba(X)
    df["prediction"] = proba.argmax(axis=1)
    df["proba_0"] = proba[:, 0]
    df["proba_1"] = proba[:, 1]
    df.to_csv(out, index=False)
    if TARGET in df:
        from sklearn.metrics import roc_auc_score
        print(f"xgboost test AUC {roc_auc_score(df[TARGET], proba[:, 1]):.5f}", file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1] == "train":
        train(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "predict":
        predict(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
