"""Drift by hand: KS and PSI on auto-mpg (MLOps Lab exercise drift-by-hand).

The lab runs:  python drift.py data/reference.csv data/current.csv drift.json
Written for SciPy 1.17.1, NumPy 2.4.6 and pandas 3.1.1. README.md has the
task; fill in the two TODOs.
"""

import json
import sys

import numpy as np
import pandas as pd
from scipy import stats

FEATURES = ["mpg", "cyl", "displ", "hp", "weight", "accel"]


def ks(reference: np.ndarray, current: np.ndarray) -> float:
    """TODO 1: the two-sample Kolmogorov-Smirnov statistic D (not its p-value)."""
    return stats.ks_2samp(reference, current).statistic


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """TODO 2: the Population Stability Index, binned as README.md says."""
    edges = np.unique(np.quantile(reference, np.arange(1, bins) / bins))

    def shares(x):
        counts = np.bincount(np.searchsorted(edges, x, side="left"), minlength=len(edges) + 1)
        return np.maximum(counts / len(x), 1e-4)

    r, c = shares(reference), shares(current)
    return float(np.sum((c - r) * np.log(c / r)))


def main(ref_path="data/reference.csv", cur_path="data/current.csv", out="drift.json"):
    ref, cur = pd.read_csv(ref_path), pd.read_csv(cur_path)
    result = {}
    for f in FEATURES:
        r = ref[f].dropna().to_numpy(dtype=float)
        c = cur[f].dropna().to_numpy(dtype=float)
        result[f] = {"ks": float(ks(r, c)), "psi": float(psi(r, c))}
    with open(out, "w") as fh:
        json.dump(result, fh, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main(*sys.argv[1:4])
