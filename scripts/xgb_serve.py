#!/usr/bin/env python3
"""The peer of `modelsmith serve` for scripts/bench_serve.sh: an XGBoost model on
adult behind a plain Python HTTP server (http.server.ThreadingHTTPServer)
answering the same KServe Open Inference Protocol v2 request the wrk script
sends, one row per request.

  xgb_serve.py TRAIN.csv PORT

Trains hist/lossguide (31 leaves, 255 bins, eta 0.1, 100 rounds, native
categoricals), then serves POST /v2/models/a/infer until killed. Uses Debian's
python3-xgboost and python3-pandas (run with /usr/bin/python3).
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd
import xgboost as xgb

TARGET = "income"


def main():
    src, port = sys.argv[1], int(sys.argv[2])
    df = pd.read_csv(src)
    y = df.pop(TARGET)
    classes = sorted(y.unique())
    y = y.map({c: i for i, c in enumerate(classes)})
    cats = [c for c in df.columns if df[c].dtype == object]
    levels = {c: sorted(df[c].dropna().unique()) for c in cats}
    for c in cats:
        df[c] = pd.Categorical(df[c], categories=levels[c])
    params = {"objective": "binary:logistic", "tree_method": "hist", "grow_policy": "lossguide",
              "max_leaves": 31, "max_depth": 0, "max_bin": 255, "eta": 0.1, "nthread": 1,
              "max_cat_to_onehot": 1}
    booster = xgb.train(params, xgb.DMatrix(df, label=y, enable_categorical=True), num_boost_round=100)
    columns = list(df.columns)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length", 0))
            req = json.loads(self.rfile.read(n))
            row = {t["name"]: t["data"] for t in req["inputs"]}
            x = pd.DataFrame({c: row[c] for c in columns})
            for c in cats:
                x[c] = pd.Categorical(x[c], categories=levels[c])
            p1 = booster.predict(xgb.DMatrix(x, enable_categorical=True))
            p = np.column_stack([1 - p1, p1])
            labels = [classes[i] for i in p.argmax(axis=1)]
            body = json.dumps({"model_name": "a", "outputs": [
                {"name": "label", "datatype": "BYTES", "shape": [len(labels)], "data": labels},
                {"name": "probabilities", "datatype": "FP64", "shape": list(p.shape), "data": p.ravel().tolist()}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    print("serving", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
