"""Train the wine classifier your API serves (MLOps Lab exercise
fastapi-predict).

Complete as it is: the lab runs `python train.py` before every check. It fits
a scaled logistic regression on the lab's split and saves it with joblib to
model.joblib, which app.py loads. Change the model if you like: the check
compares your API's answers with whatever model.joblib predicts. Written for
scikit-learn 1.9.1 and pandas 3.1.1.
"""

import json

import joblib
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

df = pd.read_csv("data/wine-quality-red.csv")
with open("data/split.json") as f:
    split = json.load(f)
X = df.drop(columns=["quality"])
y = df["quality"] >= 6  # True: a good wine
train, test = split["train"], split["test"]

model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
model.fit(X.iloc[train], y.iloc[train])
accuracy = accuracy_score(y.iloc[test], model.predict(X.iloc[test]))
joblib.dump(model, "model.joblib")
print(f"test accuracy {accuracy:.4f} on {len(test)} rows; saved model.joblib")
