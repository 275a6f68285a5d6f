"""The real tritonclient[http] against a lab-serve endpoint (JSON tensors).

Usage: triton_check.py HOST:PORT MODEL ROWS_JSON
Checks live, ready, model ready and metadata, then infers ROWS (a JSON list of
numeric rows) as one FP64 [N, F] input with binary_data=False, and prints
{"labels": [...], "probabilities": [[...], ...]} as JSON.
"""

import json
import sys

import numpy as np
import tritonclient.http as httpclient


def main() -> None:
    url, model, rows = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    client = httpclient.InferenceServerClient(url=url)
    assert client.is_server_live(), "server not live"
    assert client.is_server_ready(), "server not ready"
    assert client.is_model_ready(model), "model not ready"
    meta = client.get_model_metadata(model)
    assert meta["name"] == model, meta
    assert len(meta["inputs"]) == len(rows[0]), meta

    x = np.array(rows, dtype=np.float64)
    inp = httpclient.InferInput("input-0", list(x.shape), "FP64")
    inp.set_data_from_numpy(x, binary_data=False)
    outputs = [
        httpclient.InferRequestedOutput("label", binary_data=False),
        httpclient.InferRequestedOutput("probabilities", binary_data=False),
    ]
    result = client.infer(model, [inp], outputs=outputs)
    labels = [v.decode() if isinstance(v, bytes) else str(v) for v in result.as_numpy("label").tolist()]
    probabilities = result.as_numpy("probabilities").tolist()

    # FP32 input is accepted too.
    inp32 = httpclient.InferInput("input-0", list(x.shape), "FP32")
    inp32.set_data_from_numpy(x.astype(np.float32), binary_data=False)
    assert len(client.infer(model, [inp32]).as_numpy("label")) == len(rows)

    print(json.dumps({"labels": labels, "probabilities": probabilities}))


if __name__ == "__main__":
    main()
