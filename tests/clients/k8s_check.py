"""The manifests `mlops-lab export k8s` wrote, checked with the real tools:
kubernetes-validate, strict (unknown fields rejected), against the newest
Kubernetes it ships and one two minors older; the InferenceService through
the kserve SDK's generated models and back, with nothing lost or renamed.

Usage: k8s_check.py DIR KSERVE_MODELS_DIR  → one JSON line on stdout.
"""

import importlib.util
import json
import sys
import types
from pathlib import Path

import kubernetes_validate
import yaml

out_dir, kserve_dir = Path(sys.argv[1]), sys.argv[2]
NEWEST = "1.37"
OLDER = "1.35"

validated, errors, kinds = [], [], []
for path in sorted(out_dir.glob("*.yaml")):
    doc = yaml.safe_load(path.read_text())
    kinds.append(doc["kind"])
    if doc["kind"] == "InferenceService":
        continue
    for version in (NEWEST, OLDER):
        try:
            kubernetes_validate.validate(doc, version, strict=True)
            validated.append(f"{path.name}@{version}")
        except kubernetes_validate.ValidationError as e:
            errors.append(f"{path.name}@{version}: {e.path}: {e.message}")

# A misspelt field must fail strict validation (the check can fail).
planted = yaml.safe_load((out_dir / "deployment.yaml").read_text())
planted["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Never"
try:
    kubernetes_validate.validate(planted, NEWEST, strict=True)
    planted_rejected = False
except kubernetes_validate.ValidationError:
    planted_rejected = True


def kserve_models():
    """kserve's generated models only (its __init__ imports the model
    server), with the core Kubernetes types they name."""
    sys.path.insert(0, kserve_dir)
    spec = importlib.util.find_spec("kserve")
    pkg = types.ModuleType("kserve")
    pkg.__path__ = list(spec.submodule_search_locations)
    sys.modules["kserve"] = pkg
    import kserve.api_client
    import kserve.models
    import kubernetes.client.models as core

    for name in dir(core):
        if name[:1].isupper() and not hasattr(kserve.models, name):
            setattr(kserve.models, name, getattr(core, name))
    return kserve.api_client.ApiClient


class Response:
    def __init__(self, obj):
        self.data = json.dumps(obj)


isvc = yaml.safe_load((out_dir / "inferenceservice.yaml").read_text())
client = kserve_models()()
obj = client.deserialize(Response(isvc), "V1beta1InferenceService")
back = client.sanitize_for_serialization(obj)
container = obj.spec.predictor.containers[0]
print(json.dumps({
    "kinds": kinds,
    "validated": validated,
    "errors": errors,
    "planted_rejected": planted_rejected,
    "isvc_roundtrip": back == isvc,
    "isvc_diff": None if back == isvc else {"in": isvc, "out": back},
    "isvc_types": [type(obj).__name__, type(container).__name__],
    "isvc_protocol": [e.value for e in container.env if e.name == "PROTOCOL"],
}))
