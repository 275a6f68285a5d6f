//! Exports for the tools learners meet at work: Kubernetes and KServe
//! manifests for a registered version's server image.

use std::path::{Path, PathBuf};

use lab_export::Manifest;
use lab_export::k8s::{K8sSpec, manifests, resource_name};
use lab_export::kfp::{KfpPart, KfpSpec, pipeline, pipeline_name};
use lab_model::{ModelKind, Task};
use serde::{Deserialize, Serialize};

use crate::events::{Event, Stage, stage};
use crate::lab::Lab;
use crate::registry::require_servable;
use crate::request::{ModelRef, default_model_name};
use crate::{PipelineError, Result};

/// The steps image every exported Kubeflow pipeline runs (one per release
/// of the lab: the steps are this version's `mlops-lab step` commands).
pub const STEPS_IMAGE: &str = concat!("mlops-lab/steps:", env!("CARGO_PKG_VERSION"));

/// The activity kinds of the latest exports (what the course checks).
const EXPORT_K8S: &str = "export-k8s";
const EXPORT_KFP: &str = "export-kfp";

impl Lab {
    /// The latest export of `kind` (`k8s` or `kfp`): where it was written
    /// and when (ms).
    pub fn last_export(&self, kind: &str) -> Result<Option<(PathBuf, i64)>> {
        let key = match kind {
            "k8s" => EXPORT_K8S,
            "kfp" => EXPORT_KFP,
            other => {
                return Err(PipelineError::Invalid(format!(
                    "export kind `{other}`: k8s or kfp"
                )));
            }
        };
        Ok(self
            .store
            .activity::<serde_json::Value>(key)?
            .map(|(path, _, at)| (PathBuf::from(path), at)))
    }
}

/// What `export kfp` is asked for.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KfpRequest {
    /// A drift scenario: train on its reference slice (the lab's own
    /// pipeline does). Default: the lab pipeline's scenario, unless
    /// `dataset` is given.
    pub scenario: Option<String>,
    /// A dataset, trained on whole (when no scenario is given).
    pub dataset: Option<String>,
    /// Model kind (default: linear regression for a regression target,
    /// else logistic regression, as the lab's pipeline).
    pub model: Option<String>,
    /// Where to write the YAML (default `exports/kfp/NAME.yaml` in the lab
    /// home).
    pub out: Option<PathBuf>,
    /// Build the steps image in the local Docker as well: `Some(true)`
    /// always (an error without Docker), `Some(false)` never, `None` when
    /// Docker answers.
    pub build_image: Option<bool>,
}

/// What `export kfp` wrote.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KfpExport {
    pub pipeline: String,
    pub out_file: PathBuf,
    pub yaml: String,
    /// One line per parameter, task and output.
    pub parts: Vec<KfpPart>,
    /// The steps image the executors run.
    pub image: String,
    /// The steps image, when it was built now.
    pub image_built: Option<lab_deploy::ImageInfo>,
    /// Why it was not built, when it was not.
    pub image_note: Option<String>,
    /// How to run the pipeline with KFP's local runner.
    pub run_with: String,
}

/// What `export k8s` wrote.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct K8sExport {
    pub model: String,
    pub version: i64,
    /// The image the manifests run (`mlops-lab deploy` builds it).
    pub image: String,
    /// The Kubernetes name of every object.
    pub name: String,
    pub out_dir: PathBuf,
    pub manifests: Vec<Manifest>,
    /// How to load the image into a local cluster and apply the manifests.
    pub readme: String,
}

impl Lab {
    /// The manifests of `model`'s server, written to `out` (default
    /// `<lab home>/exports/k8s/<name>-v<version>`). Existing files of the
    /// same names are replaced; nothing else in `out` is touched.
    pub fn export_k8s(&self, model: &ModelRef, out: Option<&Path>) -> Result<K8sExport> {
        let mv = self.resolve_model(model)?;
        require_servable(&mv)?;
        let spec = K8sSpec {
            model_name: mv.name.clone(),
            model_version: mv.version,
            run_id: mv.run_id.clone(),
            image: lab_deploy::image_tag(&mv.name, mv.version),
            port: lab_deploy::CONTAINER_PORT,
            namespace: None,
            // As `deploy` runs the container: 1 CPU, 256 MiB (the server
            // itself needs a few MiB; the request is what a node reserves).
            cpu_request: "100m".into(),
            cpu_limit: "1".into(),
            memory_request: "64Mi".into(),
            memory_limit: "256Mi".into(),
            min_replicas: 2,
            max_replicas: 5,
        };
        let name = resource_name(&mv.name).map_err(|e| PipelineError::Invalid(e.to_string()))?;
        let manifests = manifests(&spec).map_err(|e| PipelineError::Invalid(e.to_string()))?;
        let out_dir = match out {
            Some(p) => p.to_path_buf(),
            None => self
                .home()
                .root()
                .join("exports/k8s")
                .join(format!("{name}-v{}", mv.version)),
        };
        let readme = readme(&mv.name, mv.version, &spec.image, &name, &manifests);
        std::fs::create_dir_all(&out_dir).map_err(|e| {
            PipelineError::Invalid(format!("cannot create {}: {e}", out_dir.display()))
        })?;
        let mut files: Vec<(&str, &str)> = manifests
            .iter()
            .map(|m| (m.file_name.as_str(), m.yaml.as_str()))
            .collect();
        files.push(("README.md", readme.as_str()));
        for (file, text) in files {
            let path = out_dir.join(file);
            write_atomic(&path, text.as_bytes())?;
        }
        self.store
            .record_activity(EXPORT_K8S, &out_dir.display().to_string(), &mv.version)?;
        Ok(K8sExport {
            model: mv.name.clone(),
            version: mv.version,
            image: spec.image,
            name,
            out_dir,
            manifests,
            readme,
        })
    }
}

impl Lab {
    /// The lab's pipeline (Data → Train → Validate → Register → Package) as
    /// a Kubeflow Pipelines v2 YAML whose steps run this lab's static CLI in
    /// the steps image, written to `req.out`; with `req.build_image`, the
    /// steps image is built too.
    pub fn export_kfp(&self, req: &KfpRequest, sink: &dyn Fn(Event)) -> Result<KfpExport> {
        let (spec, scenario) = match (&req.scenario, &req.dataset) {
            (Some(sc), _) => {
                let (spec, sc) = self.catalog.scenario(sc)?;
                if let Some(d) = &req.dataset
                    && d != &spec.name
                {
                    return Err(PipelineError::Invalid(format!(
                        "scenario `{}` belongs to dataset `{}`, not `{d}`",
                        sc.name, spec.name
                    )));
                }
                (spec, sc.name.clone())
            }
            (None, Some(d)) => (self.catalog.dataset(d)?, String::new()),
            (None, None) => {
                let (spec, sc) = self.catalog.scenario(crate::DEFAULT_SCENARIO)?;
                (spec, sc.name.clone())
            }
        };
        let target = spec.target(None)?;
        let model: ModelKind = match &req.model {
            Some(m) => m.parse().map_err(PipelineError::Invalid)?,
            None => match target.task {
                Task::Regression => ModelKind::LinearRegression,
                _ => ModelKind::LogisticRegression,
            },
        };
        let name = pipeline_name(&format!(
            "mlops-lab-{}",
            if scenario.is_empty() {
                &spec.name
            } else {
                &scenario
            }
        ));
        let gate = serde_json::to_string(&target.gate).expect("numbers serialize");
        let what = if scenario.is_empty() {
            format!("{} (all rows)", spec.name)
        } else {
            format!("{} (reference slice of {scenario})", spec.name)
        };
        let kfp = KfpSpec {
            pipeline_name: name.clone(),
            description: format!(
                "MLOps Lab: data, train, validate, register and package a {model} model of {} on {what}",
                target.name
            ),
            image: STEPS_IMAGE.into(),
            sdk_version: concat!("mlops-lab-", env!("CARGO_PKG_VERSION")).into(),
            dataset: spec.name.clone(),
            scenario: scenario.clone(),
            model: model.to_string(),
            hyperparams: "{}".into(),
            seed: 42,
            test_fraction: 0.25,
            gate,
            model_name: default_model_name(&spec.name, &target.name),
            alias: "champion".into(),
        };
        let p = pipeline(&kfp).map_err(|e| PipelineError::Invalid(e.to_string()))?;
        let out_file = match &req.out {
            Some(p) => p.clone(),
            None => self
                .home()
                .root()
                .join("exports/kfp")
                .join(format!("{name}.yaml")),
        };
        if let Some(dir) = out_file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                PipelineError::Invalid(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        write_atomic(&out_file, p.yaml.as_bytes())?;
        let docker = match req.build_image {
            Some(b) => Ok(b),
            None => match self.deployer()?.docker_available() {
                Ok(()) => Ok(true),
                Err(e) => Err(e.to_string()),
            },
        };
        let image_note = match &docker {
            Ok(true) => None,
            Ok(false) => Some(format!(
                "not built (asked not to): `mlops-lab export kfp` builds {STEPS_IMAGE}"
            )),
            Err(e) => Some(format!(
                "not built: {e}. Start Docker and export again to build {STEPS_IMAGE}"
            )),
        };
        let image_built = if docker == Ok(true) {
            Some(stage(
                sink,
                Stage::Package,
                format!("building the steps image {STEPS_IMAGE}"),
                || {
                    let d = self.deployer()?;
                    let progress = |line: &str| {
                        sink(Event::StageProgress {
                            stage: Stage::Package,
                            fraction: None,
                            message: line.to_string(),
                        })
                    };
                    let info = d.build_steps_image(
                        STEPS_IMAGE,
                        &self.catalog.root,
                        self.home().id(),
                        &progress,
                    )?;
                    let msg = format!("{} ({:.1} MB)", info.tag, info.size_bytes as f64 / 1e6);
                    Ok::<_, PipelineError>((info, msg))
                },
            )?)
        } else {
            None
        };
        self.store
            .record_activity(EXPORT_KFP, &out_file.display().to_string(), &name)?;
        let file = out_file.display();
        let run_with = format!(
            r#"pip install kfp==2.17.3 docker
python3 - <<'PY'
import os
from kfp import components, local
os.makedirs("kfp-runs", exist_ok=True)
local.init(runner=local.DockerRunner(), pipeline_root=os.path.abspath("kfp-runs"))
run = components.load_component_from_file("{file}")()
print(run.outputs["metrics"].metadata, run.outputs["image_tag"])
PY"#
        );
        Ok(KfpExport {
            pipeline: name,
            out_file,
            yaml: p.yaml,
            parts: p.parts,
            image: STEPS_IMAGE.into(),
            image_built,
            image_note,
            run_with,
        })
    }
}

/// Write through a temporary file and a rename, so a reader never sees
/// half a manifest.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp-mlops-lab");
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            PipelineError::Invalid(format!("cannot write {}: {e}", path.display()))
        })
}

fn readme(model: &str, version: i64, image: &str, name: &str, manifests: &[Manifest]) -> String {
    let list: String = manifests
        .iter()
        .map(|m| format!("- `{}` ({}): {}\n", m.file_name, m.kind, m.explanation))
        .collect();
    format!(
        r#"# {model} v{version} on Kubernetes

Generated by `mlops-lab export k8s {model}:{version}`. These manifests run
`{image}`, the `FROM scratch` image `mlops-lab deploy` builds (the static
`lab-serve` and the model, nothing else), the way the lab runs it: non-root,
read-only, no capabilities, with probes on KServe's v2 health endpoints.

{list}
## 1. Build the image

The image lives in your local Docker once the lab has deployed the model:

```sh
mlops-lab deploy {model}:{version}
docker image ls {image}
```

## 2. Load it into a local cluster

A local cluster cannot pull it from a registry, so load it into every
node (the manifests say `imagePullPolicy: Never`: a pod on a node without
the image fails with `ErrImageNeverPull` instead of fetching a stranger's
`mlops-lab/…` image from Docker Hub; push it to your registry and change
the image and the policy to run it elsewhere):

```sh
kind load docker-image {image}          # kind
minikube image load {image}             # minikube
```

## 3. Apply and try it

```sh
kubectl apply -f serviceaccount.yaml -f deployment.yaml -f service.yaml \
  -f hpa.yaml -f pdb.yaml -f networkpolicy.yaml
kubectl rollout status deployment/{name}
kubectl get pods -l app.kubernetes.io/name={name}
kubectl port-forward service/{name} 8080:80
curl -s localhost:8080/v2/health/ready
curl -s localhost:8080/v2/models/{model}
```

## Or with KServe

On a cluster with KServe installed, apply the InferenceService instead of
the Deployment and Service (it creates them itself):

```sh
kubectl apply -f serviceaccount.yaml -f inferenceservice.yaml
kubectl get inferenceservice {name}
```

## Remove it

```sh
kubectl delete -f serviceaccount.yaml -f deployment.yaml -f service.yaml \
  -f hpa.yaml -f pdb.yaml -f networkpolicy.yaml
kubectl delete -f inferenceservice.yaml   # if you applied it (needs KServe)
```
"#
    )
}
