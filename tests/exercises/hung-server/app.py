"""A learner's server that hangs: it starts a child process at start-up,
answers /health, and never answers /predict. The lab must stop it at its
time limit, with the child."""

import os
import subprocess
import time

from fastapi import FastAPI

child = subprocess.Popen(["sleep", "300"])
with open("pids.txt", "w") as f:
    f.write(f"{os.getpid()} {child.pid}\n")

app = FastAPI()


@app.get("/health")
def health():
    return {"status": "ok"}


@app.post("/predict")
def predict():
    time.sleep(300)
