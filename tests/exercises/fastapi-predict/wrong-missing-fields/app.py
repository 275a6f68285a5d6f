"""A prediction API for the wine classifier (MLOps Lab exercise
fastapi-predict): wrong: the body declares 4 of
the 11 measurements."""

import joblib
import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel

model = joblib.load("model.joblib")

app = FastAPI(title="wine-quality API")


class Wine(BaseModel):
    """One wine: its 11 measurements, named as in data/wine-quality-red.csv."""

    fixed_acidity: float
    volatile_acidity: float
    citric_acid: float
    residual_sugar: float


@app.get("/health")
def health():
    return {"status": "ok"}


@app.post("/predict")
def predict(wine: Wine):
    X = pd.DataFrame([wine.model_dump()])
    return {"good": bool(model.predict(X)[0])}
