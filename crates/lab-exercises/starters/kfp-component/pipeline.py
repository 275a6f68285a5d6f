"""A Kubeflow pipeline with one component of your own (MLOps Lab exercise
kfp-component).

The lab runs:  python pipeline.py
which must compile the pipeline to pipeline.yaml (and not run it). The lab
then validates that YAML and runs it with KFP's local runner, with
MLFLOW_TRACKING_URI pointing at its own tracking server: do not set a
tracking URI here. Written for kfp 2.17.3, scikit-learn 1.9.1, pandas 3.1.1
and mlflow-skinny 3.17.2. README.md has the task; fill in the TODOs.
"""

from kfp import compiler, dsl

# The image a cluster would run the component in, with the packages it
# imports. KFP's local runner runs it in the lab's Python instead, where
# these pinned versions are already installed.
PACKAGES = ["pandas==3.1.1", "scikit-learn==1.9.1", "mlflow-skinny==3.17.2"]


@dsl.component(base_image="python:3.11-slim", packages_to_install=PACKAGES)
def train_wine(data_dir: str, C: float, max_iter: int) -> float:
    """Fit the scaled logistic regression on the lab's wine split, log it
    to MLflow (experiment exercise-kfp) and return its test accuracy."""
    # A component runs alone, in its own container: everything it uses is
    # imported inside the function (module-level imports are not shipped).
    import json
    import os

    import mlflow
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    df = pd.read_csv(os.path.join(data_dir, "wine-quality-red.csv"))
    with open(os.path.join(data_dir, "split.json")) as f:
        split = json.load(f)
    X = df.drop(columns=["quality"])
    y = df["quality"] >= 6
    train, test = split["train"], split["test"]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=max_iter))
    model.fit(X.iloc[train], y.iloc[train])
    accuracy = float(accuracy_score(y.iloc[test], model.predict(X.iloc[test])))
    # TODO 3: in experiment "exercise-kfp", start a run and log the params
    # C and max_iter and the metric "accuracy"
    raise NotImplementedError("TODO 3: log C, max_iter and accuracy to MLflow in train_wine()")
    return accuracy


@dsl.pipeline(name="wine-pipeline", description="Train the wine classifier and log it to MLflow")
def wine_pipeline(data_dir: str, C: float = 1.0, max_iter: int = 1000) -> float:
    # TODO 1: call train_wine with the pipeline's parameters and return its
    # output (task.output). KFP runs this body once, when it builds the
    # pipeline's graph: the tasks are nodes, not calls.
    raise NotImplementedError("TODO 1: call train_wine and return its output in wine_pipeline()")


if __name__ == "__main__":
    # TODO 2: compile wine_pipeline to pipeline.yaml
    # (compiler.Compiler().compile(...))
    raise NotImplementedError("TODO 2: compile wine_pipeline to pipeline.yaml")
