"""MLflow's own Python client (mlflow-skinny) against MLOps Lab's tracking
server. Run by tests/e2e/tracking.rs with MLFLOW_TRACKING_URI set; each
scenario prints one JSON line of what it saw, which the Rust test checks
against the lab's own CLI and SQLite file.

Usage: mlflow_check.py SCENARIO [ARG...]
"""

import json
import sys

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException


def out(**kv):
    print(json.dumps(kv), flush=True)


def tracking():
    """set_experiment, named and nested runs, params, stepped metrics, tags,
    end_run, get_metric_history, search_runs with a filter and an order,
    and paging through search results."""
    exp = mlflow.set_experiment("client-demo")
    ids = {}
    for depth, acc in [(3, 0.81), (5, 0.93), (8, 0.88)]:
        with mlflow.start_run(run_name=f"depth-{depth}") as parent:
            mlflow.log_param("depth", depth)
            mlflow.log_params({"criterion": "gini", "seed": 42})
            for step, value in enumerate([acc - 0.2, acc - 0.1, acc]):
                mlflow.log_metric("acc", value, step=step)
            mlflow.set_tag("team", "platform")
            with mlflow.start_run(run_name=f"fold-{depth}", nested=True) as child:
                mlflow.log_metric("fold_acc", acc)
            ids[depth] = (parent.info.run_id, child.info.run_id)
    client = MlflowClient()
    history = client.get_metric_history(ids[5][0], "acc")
    found = mlflow.search_runs(
        experiment_names=["client-demo"],
        filter_string="metrics.acc > 0.85 and params.criterion = 'gini'",
        order_by=["metrics.acc DESC"],
    )
    pages, token = [], None
    while True:
        page = client.search_runs([exp.experiment_id], max_results=2, page_token=token,
                                  order_by=["attributes.start_time ASC"])
        pages.append([r.info.run_name for r in page])
        token = page.token
        if not token:
            break
    child = client.get_run(ids[5][1])
    out(
        experiment_id=exp.experiment_id,
        runs={str(d): list(v) for d, v in ids.items()},
        history=[[m.step, m.value] for m in history],
        found=list(found["tags.mlflow.runName"]),
        found_acc=list(found["metrics.acc"]),
        pages=pages,
        child_parent=child.data.tags.get("mlflow.parentRunId"),
        status=client.get_run(ids[5][0]).info.status,
    )


def autolog():
    """mlflow.sklearn.autolog() on a scikit-learn fit."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    mlflow.set_experiment("client-autolog")
    mlflow.sklearn.autolog(serialization_format="cloudpickle")
    X, y = load_iris(return_X_y=True)
    with mlflow.start_run(run_name="autologged") as run:
        LogisticRegression(max_iter=200).fit(X, y)
    client = MlflowClient()
    got = client.get_run(run.info.run_id)
    # MLflow 3: autolog logs the model, and links the training metrics to it.
    model = client.get_logged_model(mlflow.last_logged_model().model_id)
    out(run_id=run.info.run_id, params=got.data.params, metrics=got.data.metrics,
        status=got.info.status, model_metrics=sorted({m.key for m in model.metrics}),
        outputs=[o.model_id for o in got.outputs.model_outputs])


def registry(name):
    """log_model with registered_model_name, an alias, get_model_version_by_alias,
    load_model through the alias, and the registry's read calls."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    mlflow.set_experiment("client-registry")
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=200).fit(X, y)
    with mlflow.start_run(run_name="logged-model") as run:
        info = mlflow.sklearn.log_model(
            model, name="model", registered_model_name=name,
            serialization_format="cloudpickle",
        )
    client = MlflowClient()
    client.set_registered_model_alias(name, "champion", "1")
    version = client.get_model_version_by_alias(name, "champion")
    loaded = mlflow.sklearn.load_model(f"models:/{name}@champion")
    same = bool((loaded.predict(X) == model.predict(X)).all())
    by_run = mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    names = [m.name for m in client.search_registered_models()]
    versions = [v.version for v in client.search_model_versions(f"name='{name}'")]
    out(run_id=run.info.run_id, model_id=info.model_id, version=version.version,
        aliases=list(version.aliases), source=version.source, same_predictions=same,
        by_run_same=bool((by_run.predict(X) == model.predict(X)).all()),
        registered=names, versions=versions,
        download_uri=client.get_model_version_download_uri(name, "1"))


def registry_admin(run_id):
    """The registry's write calls beyond log_model: an empty model, tags,
    descriptions, a version from a run's files, rename, delete."""
    client = MlflowClient()
    client.create_registered_model("scratch", tags={"team": "ml"}, description="to rename")
    client.set_registered_model_tag("scratch", "stage", "test")
    client.update_registered_model("scratch", description="renamed soon")
    v = client.create_model_version("scratch", f"runs:/{run_id}/model", run_id=run_id)
    client.set_model_version_tag("scratch", v.version, "validated", "yes")
    client.update_model_version("scratch", v.version, description="first")
    client.rename_registered_model("scratch", "scratch-renamed")
    got = client.get_registered_model("scratch-renamed")
    version = client.get_model_version("scratch-renamed", v.version)
    seen = dict(name=got.name, tags=got.tags, description=got.description,
                version_tags=version.tags, version_description=version.description)
    client.delete_model_version("scratch-renamed", v.version)
    client.delete_registered_model("scratch-renamed")
    try:
        client.get_registered_model("scratch-renamed")
    except MlflowException as e:
        seen["after_delete"] = e.error_code
    out(**seen)


def lab_view():
    """What the client sees of the lab's own runs and models."""
    client = MlflowClient()
    runs = mlflow.search_runs(search_all_experiments=True)
    models = client.search_registered_models()
    out(run_names=sorted(set(runs["tags.mlflow.runName"].dropna())) if len(runs) else [],
        run_ids=sorted(runs["run_id"]) if len(runs) else [],
        models={m.name: [v.version for v in m.latest_versions] for m in models},
        aliases={m.name: dict(m.aliases) for m in models})


def errors():
    """The client's error paths: each must be MLflow's error code, not a retry."""
    client = MlflowClient()
    seen = {}
    client.create_experiment("dup-exp")
    try:
        client.create_experiment("dup-exp")
    except MlflowException as e:
        seen["duplicate_experiment"] = e.error_code
    exp = client.get_experiment_by_name("dup-exp")
    run = client.create_run(exp.experiment_id)
    client.log_param(run.info.run_id, "p", "1")
    client.log_param(run.info.run_id, "p", "1")
    try:
        client.log_param(run.info.run_id, "p", "2")
    except MlflowException as e:
        seen["changed_param"] = e.error_code
    try:
        client.get_run("deadbeef")
    except MlflowException as e:
        seen["unknown_run"] = e.error_code
    try:
        client.search_runs([exp.experiment_id], filter_string="metrics.acc >> 1")
    except MlflowException as e:
        seen["bad_filter"] = e.error_code
        seen["bad_filter_message"] = e.message
    seen["missing_experiment"] = client.get_experiment_by_name("nope")
    try:
        client.log_metric(run.info.run_id, "loss", float("nan"))
    except MlflowException as e:
        seen["nan_metric"] = e.error_code
    try:
        client.get_registered_model("nope")
    except MlflowException as e:
        seen["unknown_model"] = e.error_code
    out(**seen)


def hammer(n):
    """One metric per request, to write while the lab's CLI writes too."""
    mlflow.set_experiment("client-hammer")
    with mlflow.start_run(run_name="hammer") as run:
        for i in range(int(n)):
            mlflow.log_metric("load", float(i), step=i)
    out(run_id=run.info.run_id)


if __name__ == "__main__":
    scenario, args = sys.argv[1], sys.argv[2:]
    {"tracking": tracking, "autolog": autolog, "registry": registry,
     "lab_view": lab_view, "errors": errors, "hammer": hammer,
     "registry_admin": registry_admin}[scenario](*args)
