"""Reference server for `cargo xtask bench serve`: the seed roadmap's stack.

FastAPI + uvicorn + scikit-learn, the same model (standard scaling +
LogisticRegression(C=1) on the shipped red-wine split) behind the same
MLflow-style endpoint, POST /invocations with {"dataframe_split": ...}.

Run (from the repository root): uvicorn bench.serve_fastapi:app --workers 1 --port 8000
"""

import json
import pathlib

import numpy as np
import pandas as pd
from fastapi import FastAPI, HTTPException, Request
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ROOT = pathlib.Path(__file__).resolve().parents[1] / "sample-data"
FEATURES = ["fixed_acidity", "volatile_acidity", "citric_acid", "residual_sugar", "chlorides",
            "free_sulfur_dioxide", "total_sulfur_dioxide", "density", "pH", "sulphates", "alcohol"]
LABELS = np.array(["not-good", "good"])

_df = pd.read_csv(ROOT / "wine-quality-red.csv")
_split = json.loads((ROOT / "splits" / "wine-quality-red.good.json").read_text())
_X = _df[FEATURES].to_numpy()
_y = (_df["quality"] >= 6).astype(int).to_numpy()
model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0)).fit(_X[_split["train"]], _y[_split["train"]])

app = FastAPI()


@app.get("/ping")
def ping() -> str:
    return "ok"


@app.post("/invocations")
async def invocations(request: Request) -> dict:
    body = await request.json()
    try:
        split = body["dataframe_split"]
        frame = pd.DataFrame(split["data"], columns=split["columns"])[FEATURES]
    except (KeyError, TypeError, ValueError) as e:
        raise HTTPException(status_code=400, detail=str(e)) from e
    return {"predictions": LABELS[model.predict(frame.to_numpy())].tolist()}
