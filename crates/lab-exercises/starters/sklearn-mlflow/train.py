"""Train a wine classifier with scikit-learn and log it to the lab's MLflow
tracking server (MLOps Lab exercise sklearn-mlflow).

The lab runs:  python train.py
with MLFLOW_TRACKING_URI set to its own tracking server (a free port on
127.0.0.1, for the check's duration): do not set a tracking URI here. Written for scikit-learn 1.9.1,
mlflow-skinny 3.17.2 and pandas 3.1.1. README.md has the task; fill in the
TODO.
"""

import json

import mlflow
import mlflow.sklearn
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

EXPERIMENT = "exercise-wine"
MODEL_NAME = "wine-yours"


def load():
    """The lab's split of the red wines: 1,199 to train on, 400 to test."""
    df = pd.read_csv("data/wine-quality-red.csv")
    with open("data/split.json") as f:
        split = json.load(f)
    X = df.drop(columns=["quality"])
    y = (df["quality"] >= 6).map({True: "good", False: "not-good"})
    train, test = split["train"], split["test"]
    return X.iloc[train], X.iloc[test], y.iloc[train], y.iloc[test]


def main():
    X_train, X_test, y_train, y_test = load()
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    # TODO: in experiment EXPERIMENT, start a run that
    #   - fits `model` on the training rows,
    #   - logs its parameters (at least C and max_iter),
    #   - logs the metric "accuracy" on the test rows,
    #   - logs the fitted model as "model", registered as MODEL_NAME, with
    #     serialization_format="cloudpickle" (MLflow 3's default for
    #     scikit-learn, skops, is not part of mlflow-skinny).
    raise NotImplementedError("TODO: log a run in experiment exercise-wine and register the model in main()")


if __name__ == "__main__":
    main()
