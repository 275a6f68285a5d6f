"""Synthesise the drift benchmark's data from red wine.

Usage: drift_data.py ROWS OUT_DIR
Writes reference.f64 and current.f64 (ROWS x 11 float64, little-endian,
row-major) and columns.json. Reference: wine rows resampled with Gaussian
noise (5 % of each column's std). Current: the same, with a shift of half a
standard deviation on alcohol, volatile acidity and sulphates, and 10 % more
spread on density.
"""
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

rows, out = int(sys.argv[1]), Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
root = Path(__file__).resolve().parent.parent
wine = pd.read_csv(root / "sample-data" / "wine-quality-red.csv")
features = [c for c in wine.columns if c != "quality"]
x = wine[features].to_numpy(dtype=np.float64)
std = x.std(axis=0)
rng = np.random.default_rng(20261126)


def sample(shift):
    idx = rng.integers(0, len(x), size=rows)
    return x[idx] + rng.normal(size=(rows, len(features))) * std * 0.05 + shift


reference = sample(0.0)
shift = np.zeros(len(features))
for name in ["alcohol", "volatile_acidity", "sulphates"]:
    shift[features.index(name)] = 0.5 * std[features.index(name)]
current = sample(shift)
d = features.index("density")
current[:, d] = current[:, d].mean() + (current[:, d] - current[:, d].mean()) * 1.1
np.ascontiguousarray(reference, dtype="<f8").tofile(out / "reference.f64")
np.ascontiguousarray(current, dtype="<f8").tofile(out / "current.f64")
(out / "columns.json").write_text(json.dumps(features))
print(json.dumps({"rows": rows, "columns": len(features), "dir": str(out)}))
