"""Reference values from SciPy for lab-monitor's statistics test.

Reads cases from the JSON file given as argv[1]; prints one JSON object per
case with SciPy's (and NumPy's) results.
"""
import json
import sys

import numpy as np
from scipy import stats
from scipy.spatial import distance


def psi(ref, cur, bins=10):
    ref = np.sort(np.asarray(ref, dtype=float))
    cur = np.asarray(cur, dtype=float)
    edges = np.unique(np.quantile(ref, [k / bins for k in range(1, bins)]))
    # right-closed bins: x goes to the first bin whose upper edge is >= x
    r = np.bincount(np.searchsorted(edges, ref, side="left"), minlength=len(edges) + 1) / len(ref)
    c = np.bincount(np.searchsorted(edges, cur, side="left"), minlength=len(edges) + 1) / len(cur)
    r = np.maximum(r, 1e-4)
    c = np.maximum(c, 1e-4)
    return float(np.sum((c - r) * np.log(c / r)))


out = []
for case in json.load(open(sys.argv[1])):
    if case["kind"] == "numeric":
        a, b = case["a"], case["b"]
        ks = stats.ks_2samp(a, b)
        out.append({
            "ks_statistic": float(ks.statistic),
            "ks_pvalue": float(ks.pvalue),
            "wasserstein": float(stats.wasserstein_distance(a, b)),
            "psi": psi(a, b),
        })
    else:
        table = np.array(case["table"], dtype=float)
        chi2, p, dof, _ = stats.chi2_contingency(table)
        out.append({
            "chi2": float(chi2),
            "chi2_pvalue": float(p),
            "dof": int(dof),
            "jensenshannon": float(distance.jensenshannon(table[0], table[1])),
        })
json.dump(out, sys.stdout)
