"""Train scikit-learn's logistic regression on the lab's red-wine split and
log it to MLOps Lab's tracking server with MLflow's own client.

Written for mlflow-skinny 3.17.2, scikit-learn 1.9.1, pandas 3.1.
Run from the repository root with MLFLOW_TRACKING_URI set.
"""

import json

import mlflow
import pandas as pd
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

# The same rows the lab trains and tests on (scikit-learn's stratified
# split, random_state=42), so the numbers are comparable.
df = pd.read_csv("sample-data/wine-quality-red.csv")
split = json.load(open("sample-data/splits/wine-quality-red.good.json"))
X = df.drop(columns="quality")
y = (df["quality"] >= 6).map({True: "good", False: "not-good"})
X_train, y_train = X.iloc[split["train"]], y.iloc[split["train"]]
X_test, y_test = X.iloc[split["test"]], y.iloc[split["test"]]

mlflow.set_experiment("wine-sklearn")
for C in [0.01, 0.1, 1.0]:
    with mlflow.start_run(run_name=f"logreg-C{C}"):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000))
        model.fit(X_train, y_train)
        pred = model.predict(X_test)
        mlflow.log_params({"C": C, "scaler": "standard", "max_iter": 1000})
        mlflow.log_metrics({
            "accuracy": accuracy_score(y_test, pred),
            "f1_macro": f1_score(y_test, pred, average="macro"),
        })
        mlflow.sklearn.log_model(model, name="model", registered_model_name="wine-sklearn",
                                 serialization_format="cloudpickle")

# The best run's version becomes the champion.
client = MlflowClient()
best = mlflow.search_runs(experiment_names=["wine-sklearn"],
                          order_by=["metrics.accuracy DESC"], max_results=1)
run_id = best.loc[0, "run_id"]
version = client.search_model_versions(f"run_id = '{run_id}'")[0].version
client.set_registered_model_alias("wine-sklearn", "champion", version)
champion = mlflow.sklearn.load_model("models:/wine-sklearn@champion")
print(f"champion: version {version}, run {best.loc[0, 'tags.mlflow.runName']}, "
      f"accuracy {accuracy_score(y_test, champion.predict(X_test)):.4f}")
