"""A prediction API for the wine classifier (MLOps Lab exercise
fastapi-predict).

The lab runs, in this folder, after `python train.py`:
    python -m uvicorn app:app --host 127.0.0.1 --port PORT
Written for fastapi 0.165.0, uvicorn 0.54.0, scikit-learn 1.9.1 and
pandas 3.1.1. README.md has the task; fill in the TODOs.
"""

import joblib
import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel

# What train.py saved: a scikit-learn pipeline (scaler, then logistic
# regression) whose predict() gives True for a good wine. Loaded once, when
# the server starts, not on every request.
model = joblib.load("model.joblib")

app = FastAPI(title="wine-quality API")


class Wine(BaseModel):
    """One wine: its 11 measurements, named as in data/wine-quality-red.csv."""

    fixed_acidity: float
    # TODO 2: the other 10 measurements, each a float, in the CSV's order


@app.get("/health")
def health():
    # TODO 1: answer 200 with {"status": "ok"}
    raise NotImplementedError("TODO 1: answer {\"status\": \"ok\"} in health()")


@app.post("/predict")
def predict(wine: Wine):
    # TODO 3: predict with `model` on a one-row DataFrame of `wine`
    # (wine.model_dump() gives its fields as a dict) and answer
    # {"good": True} or {"good": False} (a Python bool, not numpy's)
    raise NotImplementedError("TODO 3: answer {\"good\": ...} from the model in predict()")
