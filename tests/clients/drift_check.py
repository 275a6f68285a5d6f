"""SciPy's view of a shipped drift scenario, for the end-to-end test.

Usage: drift_check.py SAMPLE_DATA_DIR SCENARIO
Prints JSON {column: {...statistics...}} for every column: ks_2samp,
wasserstein_distance (and normalised by the reference std, as Evidently),
chi2_contingency and jensenshannon, on the same slices as catalog.toml.
"""
import json
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance

root, name = Path(sys.argv[1]), sys.argv[2]
catalog = tomllib.loads((root / "catalog.toml").read_text())
for ds in catalog["dataset"]:
    for sc in ds.get("scenario", []):
        if sc["name"] == name:
            dataset, scenario = ds, sc
df = pd.read_csv(root / dataset["file"], keep_default_na=False, na_values=["", "NA"])


def select(s):
    col = df[s["column"]]
    if "in" in s:
        return df[col.isin(s["in"])]
    lo, hi = s.get("min", -np.inf), s.get("max", np.inf)
    return df[(col >= lo) & (col <= hi)]


ref, cur = select(scenario["reference"]), select(scenario["current"])
out = {}
for c in df.columns:
    r, k = ref[c].dropna(), cur[c].dropna()
    if pd.api.types.is_numeric_dtype(df[c]):
        r, k = r.astype(float).to_numpy(), k.astype(float).to_numpy()
        ks = stats.ks_2samp(r, k)
        w = stats.wasserstein_distance(r, k)
        out[c] = {
            "kind": "numeric",
            "ks_statistic": float(ks.statistic),
            "ks_pvalue": float(ks.pvalue),
            "wasserstein": float(w),
            "wasserstein_norm": float(w / max(np.std(r), 0.001)),
        }
    else:
        cats = sorted(set(r) | set(k))
        table = np.array([[(r == x).sum() for x in cats], [(k == x).sum() for x in cats]], dtype=float)
        chi2, p, dof, _ = stats.chi2_contingency(table)
        out[c] = {
            "kind": "categorical",
            "chi2": float(chi2),
            "chi2_pvalue": float(p),
            "jensenshannon": float(distance.jensenshannon(table[0], table[1])),
        }
json.dump({"reference_rows": len(ref), "current_rows": len(cur), "columns": out}, sys.stdout)
