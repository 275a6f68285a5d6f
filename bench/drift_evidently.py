"""Baseline of `cargo xtask bench drift`: Evidently's DataDriftPreset.

Usage: drift_evidently.py DATA_DIR REPEAT
Loads the data outside the timing, then times Report([DataDriftPreset()])
.run(current, reference) REPEAT times and prints JSON with the median.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset

data, repeat = Path(sys.argv[1]), int(sys.argv[2])
columns = json.loads((data / "columns.json").read_text())
ref = pd.DataFrame(np.fromfile(data / "reference.f64", dtype="<f8").reshape(-1, len(columns)), columns=columns)
cur = pd.DataFrame(np.fromfile(data / "current.f64", dtype="<f8").reshape(-1, len(columns)), columns=columns)
times, snap = [], None
for _ in range(repeat):
    t = time.perf_counter()
    snap = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
    times.append(time.perf_counter() - t)
scores, share = {}, None
for m in snap.dict()["metrics"]:
    name = m.get("metric_name", "")
    if name.startswith("DriftedColumnsCount"):
        share = m["value"]["share"]
    elif name.startswith("ValueDrift(column="):
        scores[name.split("column=")[1].split(",")[0]] = m["value"]
import evidently

print(json.dumps({
    "impl": f"Evidently {evidently.__version__} DataDriftPreset",
    "median_s": float(np.median(times)),
    "min_s": float(min(times)),
    "rows": len(ref),
    "share": share,
    "drifted": sorted(c for c, v in scores.items() if v >= 0.1),
    "scores": scores,
}))
