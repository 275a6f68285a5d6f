"""A prediction API for the wine classifier (MLOps Lab exercise
fastapi-predict): wrong, it reads the body itself, so a malformed one
raises (a 500) instead of FastAPI's 422."""

import joblib
import pandas as pd
from fastapi import FastAPI, Request

model = joblib.load("model.joblib")

app = FastAPI(title="wine-quality API")

COLUMNS = [
    "fixed_acidity",
    "volatile_acidity",
    "citric_acid",
    "residual_sugar",
    "chlorides",
    "free_sulfur_dioxide",
    "total_sulfur_dioxide",
    "density",
    "pH",
    "sulphates",
    "alcohol",
]


@app.get("/health")
def health():
    return {"status": "ok"}


@app.post("/predict")
async def predict(request: Request):
    body = await request.json()
    X = pd.DataFrame([body])[COLUMNS].astype(float)
    return {"good": bool(model.predict(X)[0])}
