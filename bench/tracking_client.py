"""The tracking benchmark's client workload, run against each server with
MLflow's own client: 100 runs, each with 10 params, 50 log_metric calls and
one log_batch of 1000 metric values (a 1000-step loss curve).

Usage: tracking_client.py TRACKING_URI EXPERIMENT  → JSON on stdout.
"""

import json
import sys
import time

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric

uri, experiment = sys.argv[1], sys.argv[2]
mlflow.set_tracking_uri(uri)
client = MlflowClient(uri)
start = time.perf_counter()
exp = mlflow.set_experiment(experiment)
for i in range(100):
    with mlflow.start_run(run_name=f"run-{i}") as run:
        mlflow.log_params({f"p{j}": i * j for j in range(10)})
        for step in range(50):
            mlflow.log_metric("acc", (i % 10) / 10 + step / 1000, step=step)
        now = int(time.time() * 1000)
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("loss", 1.0 / (s + 1), now, s) for s in range(1000)],
        )
seconds = time.perf_counter() - start
runs = client.search_runs([exp.experiment_id], max_results=1000)
print(json.dumps({"seconds": seconds, "experiment_id": exp.experiment_id,
                  "runs": len(runs), "run_id": runs[0].info.run_id}))
