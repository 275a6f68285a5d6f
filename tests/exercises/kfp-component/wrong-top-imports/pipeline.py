"""A Kubeflow pipeline with one component of your own (MLOps Lab exercise
kfp-component): wrong: the component's imports
are at the top of the file, which KFP does not ship with the function."""

import json
import os

import mlflow
import pandas as pd
from kfp import compiler, dsl
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

PACKAGES = ["pandas==3.1.1", "scikit-learn==1.9.1", "mlflow-skinny==3.17.2"]


@dsl.component(base_image="python:3.11-slim", packages_to_install=PACKAGES)
def train_wine(data_dir: str, C: float, max_iter: int) -> float:
    """Fit the scaled logistic regression on the lab's wine split, log it
    to MLflow (experiment exercise-kfp) and return its test accuracy."""
    df = pd.read_csv(os.path.join(data_dir, "wine-quality-red.csv"))
    with open(os.path.join(data_dir, "split.json")) as f:
        split = json.load(f)
    X = df.drop(columns=["quality"])
    y = df["quality"] >= 6
    train, test = split["train"], split["test"]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=max_iter))
    model.fit(X.iloc[train], y.iloc[train])
    accuracy = float(accuracy_score(y.iloc[test], model.predict(X.iloc[test])))
    mlflow.set_experiment("exercise-kfp")
    with mlflow.start_run():
        mlflow.log_params({"C": C, "max_iter": max_iter})
        mlflow.log_metric("accuracy", accuracy)
    return accuracy


@dsl.pipeline(name="wine-pipeline", description="Train the wine classifier and log it to MLflow")
def wine_pipeline(data_dir: str, C: float = 1.0, max_iter: int = 1000) -> float:
    task = train_wine(data_dir=data_dir, C=C, max_iter=max_iter)
    return task.output


if __name__ == "__main__":
    compiler.Compiler().compile(wine_pipeline, "pipeline.yaml")
