"""The exported Kubeflow pipeline, checked by KFP's own SDK (kfp 2.17.3):

- the YAML loads with `kfp.components.load_component_from_file`;
- it parses into kfp-pipeline-spec's `PipelineSpec`, and every executor
  into `PipelineDeploymentConfig.ExecutorSpec`, with unknown fields
  rejected (a planted misspelt field must fail);
- it runs under `kfp.local.DockerRunner()` on the real Docker daemon, with
  the steps image the export built: with the default parameters, with
  another seed, and with a gate no model passes (the run must fail at
  validate, with register and package never run);
- the package step's build context builds into an image that serves the
  model on KServe's v2 endpoints.

Usage: kfp_check.py PIPELINE_YAML WORK_DIR. Writes WORK_DIR/result.json
(KFP's local runner logs to stdout and stderr).
"""

import glob
import json
import os
import sys
import time
import urllib.request

import docker
import yaml
from google.protobuf import json_format
from kfp import components, local
from kfp.pipeline_spec import pipeline_spec_pb2

path, work = sys.argv[1], sys.argv[2]
out = {}

doc = yaml.safe_load(open(path))
json_format.ParseDict(doc, pipeline_spec_pb2.PipelineSpec())
executors = doc["deploymentSpec"]["executors"]
for e in executors.values():
    json_format.ParseDict(e, pipeline_spec_pb2.PipelineDeploymentConfig.ExecutorSpec())
out["executors"] = sorted(executors)
out["images"] = sorted({e["container"]["image"] for e in executors.values()})
out["dependent_tasks"] = {
    name: sorted(t.get("dependentTasks", [])) for name, t in doc["root"]["dag"]["tasks"].items()
}
planted = json.loads(json.dumps(doc))
planted["root"]["dag"]["tasks"]["train"]["dependentTask"] = ["data"]
try:
    json_format.ParseDict(planted, pipeline_spec_pb2.PipelineSpec())
    out["planted_rejected"] = False
except json_format.ParseError:
    out["planted_rejected"] = True

pipeline = components.load_component_from_file(path)
out["name"] = pipeline.name
out["inputs"] = sorted(pipeline.component_spec.inputs)

root = os.path.join(work, "runs")
os.makedirs(root, exist_ok=True)
local.init(runner=local.DockerRunner(), pipeline_root=root)
runs = {}
for seed in (42, 7):
    run = pipeline(seed=seed)
    runs[str(seed)] = {
        "metrics": dict(run.outputs["metrics"].metadata),
        "model": run.outputs["model"].path,
        "image_tag": run.outputs["image_tag"],
        "context": run.outputs["context"].path,
    }
out["runs"] = runs

before = set(glob.glob(os.path.join(root, "*")))
try:
    pipeline(gate='{"r2": 0.99}')
    out["gate_run"] = "SUCCESS"
except RuntimeError as e:
    out["gate_run"] = str(e)
(failed,) = set(glob.glob(os.path.join(root, "*"))) - before
out["gate_run_tasks"] = sorted(os.listdir(failed))

# The package step's build context is a working image.
client = docker.from_env()
tag = runs["42"]["image_tag"] + "-kfp-check"
image, _ = client.images.build(path=runs["42"]["context"], tag=tag, rm=True)
container = None
url, ready = None, None
try:
    container = client.containers.run(
        image.id, detach=True, ports={"8080/tcp": ("127.0.0.1", None)}
    )
    for _ in range(100):
        container.reload()
        ports = container.attrs["NetworkSettings"]["Ports"].get("8080/tcp")
        if ports:
            url = f"http://127.0.0.1:{ports[0]['HostPort']}"
            try:
                ready = urllib.request.urlopen(url + "/v2/health/ready", timeout=2).status
                break
            except OSError:
                pass
        time.sleep(0.1)
    out["image_ready"] = ready
    assert ready == 200, f"the image built from the package context never became ready ({url})"
    meta = json.load(urllib.request.urlopen(url + "/v2/models/auto-mpg-mpg", timeout=5))
    out["image_model"] = {"name": meta["name"], "versions": meta.get("versions")}
finally:
    if container is not None:
        container.remove(force=True)
    client.images.remove(image.id, force=True)

with open(os.path.join(work, "result.json"), "w") as f:
    json.dump(out, f)
