"""Baseline for `cargo xtask bench train`: scikit-learn on the same split.

Times split + StandardScaler + LogisticRegression(C=1) fit + the same test
and train metrics MLOps Lab computes (accuracy, macro precision/recall/F1,
ROC AUC, confusion matrix). The CSV is read once, outside the timing, as in
crates/lab-train/examples/bench_train.rs. Prints one JSON object.
"""

import json
import pathlib
import sys
import time

import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (accuracy_score, confusion_matrix, precision_recall_fscore_support,
                             roc_auc_score)
from sklearn.preprocessing import StandardScaler

ROOT = pathlib.Path(__file__).resolve().parents[1] / "sample-data"
FEATURES = ["fixed_acidity", "volatile_acidity", "citric_acid", "residual_sugar", "chlorides",
            "free_sulfur_dioxide", "total_sulfur_dioxide", "density", "pH", "sulphates", "alcohol"]


def metrics(y, pred, proba):
    p, r, f, _ = precision_recall_fscore_support(y, pred, average="macro", zero_division=0)
    return {"accuracy": accuracy_score(y, pred), "precision_macro": p, "recall_macro": r,
            "f1_macro": f, "roc_auc": roc_auc_score(y, proba),
            "confusion": confusion_matrix(y, pred).tolist()}


def once(df, split):
    X = df[FEATURES].to_numpy()
    y = (df["quality"] >= 6).astype(int).to_numpy()
    tr, te = np.asarray(split["train"]), np.asarray(split["test"])
    scaler = StandardScaler().fit(X[tr])
    Xtr, Xte = scaler.transform(X[tr]), scaler.transform(X[te])
    clf = LogisticRegression(C=1.0).fit(Xtr, y[tr])
    test = metrics(y[te], clf.predict(Xte), clf.predict_proba(Xte)[:, 1])
    metrics(y[tr], clf.predict(Xtr), clf.predict_proba(Xtr)[:, 1])
    return test["accuracy"]


def main():
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    df = pd.read_csv(ROOT / "wine-quality-red.csv")
    split = json.loads((ROOT / "splits" / "wine-quality-red.good.json").read_text())
    times = []
    for _ in range(repeat + 3):
        t0 = time.perf_counter()
        acc = once(df, split)
        times.append((time.perf_counter() - t0) * 1000)
    times = sorted(times[3:])
    print(json.dumps({"impl": f"scikit-learn {sklearn.__version__}", "repeat": repeat,
                      "median_ms": times[len(times) // 2], "min_ms": times[0], "accuracy": acc}))


if __name__ == "__main__":
    main()
