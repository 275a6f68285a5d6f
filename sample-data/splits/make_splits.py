"""Regenerate the reference train/test splits shipped in sample-data/splits/.

Each split is exactly scikit-learn's
    train_test_split(X, y, test_size=0.25, random_state=42, stratify=y)
(stratify only for classification), taken after dropping the rows that have
a missing value in the task's feature or target columns. The JSON files list
the 0-based data-row numbers of the CSV (header excluded) that fall in the
test and train sets, in scikit-learn's order.

Run from the repository root with scikit-learn 1.9 and pandas:
    python sample-data/splits/make_splits.py
It also prints scikit-learn's logistic-regression accuracy (standard scaling,
C=1) for the two parity tasks, the numbers lab-train is checked against.
"""

import json
import pathlib
import sys

import pandas as pd
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

ROOT = pathlib.Path(__file__).resolve().parents[1]

# (split name, csv, feature columns, target column, derive, stratify)
TASKS = [
    ("wine-quality-red.good", "wine-quality-red.csv",
     ["fixed_acidity", "volatile_acidity", "citric_acid", "residual_sugar", "chlorides",
      "free_sulfur_dioxide", "total_sulfur_dioxide", "density", "pH", "sulphates", "alcohol"],
     "quality", lambda q: (q >= 6).astype(int), True),
    ("penguins.species", "penguins.csv",
     ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"],
     "species", None, True),
    ("iris.species", "iris.csv",
     ["sepal_length", "sepal_width", "petal_length", "petal_width"], "species", None, True),
]


def main() -> None:
    for name, csv, features, target, derive, stratify in TASKS:
        df = pd.read_csv(ROOT / csv, na_values=["NA", ""], keep_default_na=False)
        df = df.dropna(subset=features + [target])
        X = df[features]
        y = df[target] if derive is None else derive(df[target])
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, test_size=0.25, random_state=42, stratify=y if stratify else None)
        out = {
            "name": name,
            "generator": f"scikit-learn {sklearn.__version__} train_test_split("
                         f"test_size=0.25, random_state=42, stratify={'y' if stratify else 'None'})",
            "csv": csv,
            "dropped_rows_with_missing": sorted(set(range(len(pd.read_csv(ROOT / csv)))) - set(df.index)),
            "train": [int(i) for i in X_tr.index],
            "test": [int(i) for i in X_te.index],
        }
        path = ROOT / "splits" / f"{name}.json"
        path.write_text(json.dumps(out) + "\n")
        scaler = StandardScaler().fit(X_tr)
        clf = LogisticRegression(C=1.0, max_iter=1000).fit(scaler.transform(X_tr), y_tr)
        acc = clf.score(scaler.transform(X_te), y_te)
        print(f"{name}: train={len(X_tr)} test={len(X_te)} logistic accuracy={acc:.4f}", file=sys.stderr)


if __name__ == "__main__":
    main()
