//! Kubernetes and KServe manifests for a model's `FROM scratch` image.
//!
//! The built-in kinds are `k8s-openapi` structs (so a misspelt field does
//! not compile); the `InferenceService`, a custom resource k8s-openapi has
//! no type for, is a small serde struct of our own around k8s-openapi's
//! `Container`. Every object is hardened the way `mlops-lab deploy` runs the
//! container: non-root, read-only root filesystem, no capabilities,
//! RuntimeDefault seccomp, CPU and memory limits.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EnvVar, HTTPGetAction, PodSecurityContext, PodSpec,
    PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile, SecurityContext, Service,
    ServiceAccount, ServicePort, ServiceSpec,
};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::{Deserialize, Serialize};

use crate::{ExportError, Manifest, Result, to_yaml};

/// The readiness and liveness paths of KServe's Open Inference Protocol v2,
/// which `lab-serve` answers.
pub const READY_PATH: &str = "/v2/health/ready";
pub const LIVE_PATH: &str = "/v2/health/live";
pub const METRICS_PATH: &str = "/metrics";

/// The image's non-root user (distroless `nonroot`), as in the Dockerfile.
pub const IMAGE_UID: i64 = 65532;

/// What the manifests describe: one model version's server image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct K8sSpec {
    pub model_name: String,
    pub model_version: i64,
    pub run_id: String,
    /// The image `mlops-lab deploy` builds, e.g. `mlops-lab/wine:v1`.
    pub image: String,
    /// The port `lab-serve` listens on in the container.
    pub port: u16,
    /// Namespace for every object (`None`: the one `kubectl` uses).
    pub namespace: Option<String>,
    /// Resource requests and limits, as `mlops-lab deploy` runs the container.
    pub cpu_request: String,
    pub cpu_limit: String,
    pub memory_request: String,
    pub memory_limit: String,
    pub min_replicas: i32,
    pub max_replicas: i32,
}

/// Longest name given to objects: KServe derives `<name>-predictor-…`
/// objects from it, which must stay within 63 characters.
const MAX_NAME: usize = 45;

/// A Kubernetes name for a model name: an RFC 1035 label (lower case,
/// letters, digits and `-`, starting with a letter), as Services and
/// InferenceServices require, at most [`MAX_NAME`] characters.
pub fn resource_name(model: &str) -> Result<String> {
    let mut name: String = model
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while name.contains("--") {
        name = name.replace("--", "-");
    }
    let name = name.trim_matches('-').to_string();
    if name.is_empty() {
        return Err(ExportError::Invalid(format!(
            "model name `{model}` has no letter or digit to name Kubernetes objects after"
        )));
    }
    let name = if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("model-{name}")
    } else {
        name
    };
    let name: String = name.chars().take(MAX_NAME).collect();
    Ok(name.trim_end_matches('-').to_string())
}

fn labels(name: &str, spec: &K8sSpec) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".into(), name.to_string()),
        (
            "app.kubernetes.io/version".into(),
            format!("v{}", spec.model_version),
        ),
        ("app.kubernetes.io/component".into(), "model-server".into()),
        ("app.kubernetes.io/part-of".into(), "mlops-lab".into()),
        ("app.kubernetes.io/managed-by".into(), "mlops-lab".into()),
    ])
}

/// What pods are selected by: stable across versions, so a new version's
/// rollout replaces the pods behind the same Service.
fn selector_labels(name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".into(), name.to_string()),
        ("app.kubernetes.io/component".into(), "model-server".into()),
    ])
}

fn meta(name: &str, spec: &K8sSpec) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: spec.namespace.clone(),
        labels: Some(labels(name, spec)),
        ..ObjectMeta::default()
    }
}

fn selector(name: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(selector_labels(name)),
        ..LabelSelector::default()
    }
}

fn probe(path: &str, port: IntOrString, period: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_string()),
            port,
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(2),
        failure_threshold: Some(3),
        ..Probe::default()
    }
}

fn resources(spec: &K8sSpec) -> ResourceRequirements {
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".into(), Quantity(spec.cpu_request.clone())),
            ("memory".into(), Quantity(spec.memory_request.clone())),
        ])),
        limits: Some(BTreeMap::from([
            ("cpu".into(), Quantity(spec.cpu_limit.clone())),
            ("memory".into(), Quantity(spec.memory_limit.clone())),
        ])),
        ..ResourceRequirements::default()
    }
}

fn seccomp() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".into(),
        ..SeccompProfile::default()
    }
}

/// The container as the Deployment and the InferenceService both run it.
fn container(name: &str, port_name: &str, spec: &K8sSpec, env: Vec<EnvVar>) -> Container {
    let port = IntOrString::Int(i32::from(spec.port));
    Container {
        name: name.to_string(),
        image: Some(spec.image.clone()),
        // The image is loaded into the cluster (kind, minikube), never
        // pulled: `mlops-lab/…` would otherwise be looked up on Docker Hub,
        // in a namespace the lab does not own.
        image_pull_policy: Some("Never".into()),
        ports: Some(vec![ContainerPort {
            container_port: i32::from(spec.port),
            name: Some(port_name.to_string()),
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        }]),
        env: (!env.is_empty()).then_some(env),
        readiness_probe: Some(probe(READY_PATH, port.clone(), 5)),
        liveness_probe: Some(probe(LIVE_PATH, port, 10)),
        resources: Some(resources(spec)),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            run_as_user: Some(IMAGE_UID),
            run_as_group: Some(IMAGE_UID),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".into()]),
                ..Capabilities::default()
            }),
            seccomp_profile: Some(seccomp()),
            ..SecurityContext::default()
        }),
        ..Container::default()
    }
}

/// Prometheus' conventional scrape annotations (honoured by the
/// `kubernetes-pods` job of the community Prometheus chart).
fn scrape_annotations(spec: &K8sSpec) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("prometheus.io/scrape".into(), "true".into()),
        ("prometheus.io/port".into(), spec.port.to_string()),
        ("prometheus.io/path".into(), METRICS_PATH.into()),
    ])
}

pub fn deployment(name: &str, spec: &K8sSpec) -> Deployment {
    let mut pod_labels = labels(name, spec);
    pod_labels.insert("mlops-lab.dev/run-id".into(), spec.run_id.clone());
    Deployment {
        metadata: meta(name, spec),
        // No `replicas`: the HorizontalPodAutoscaler owns the count, and an
        // `apply` would otherwise reset it.
        spec: Some(DeploymentSpec {
            selector: selector(name),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels),
                    annotations: Some(scrape_annotations(spec)),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    service_account_name: Some(name.to_string()),
                    automount_service_account_token: Some(false),
                    security_context: Some(PodSecurityContext {
                        run_as_non_root: Some(true),
                        run_as_user: Some(IMAGE_UID),
                        run_as_group: Some(IMAGE_UID),
                        seccomp_profile: Some(seccomp()),
                        ..PodSecurityContext::default()
                    }),
                    containers: vec![container("model-server", "http", spec, vec![])],
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        status: None,
    }
}

pub fn service(name: &str, spec: &K8sSpec) -> Service {
    Service {
        metadata: meta(name, spec),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(selector_labels(name)),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: 80,
                target_port: Some(IntOrString::String("http".into())),
                protocol: Some("TCP".into()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

pub fn autoscaler(name: &str, spec: &K8sSpec) -> HorizontalPodAutoscaler {
    HorizontalPodAutoscaler {
        metadata: meta(name, spec),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: name.to_string(),
            },
            min_replicas: Some(spec.min_replicas),
            max_replicas: spec.max_replicas,
            metrics: Some(vec![MetricSpec {
                type_: "Resource".into(),
                resource: Some(ResourceMetricSource {
                    name: "cpu".into(),
                    target: MetricTarget {
                        type_: "Utilization".into(),
                        average_utilization: Some(70),
                        ..MetricTarget::default()
                    },
                }),
                ..MetricSpec::default()
            }]),
            ..HorizontalPodAutoscalerSpec::default()
        }),
        status: None,
    }
}

pub fn disruption_budget(name: &str, spec: &K8sSpec) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata: meta(name, spec),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(selector(name)),
            ..PodDisruptionBudgetSpec::default()
        }),
        status: None,
    }
}

pub fn network_policy(name: &str, spec: &K8sSpec) -> NetworkPolicy {
    NetworkPolicy {
        metadata: meta(name, spec),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(selector(name)),
            policy_types: Some(vec!["Ingress".into()]),
            // From anywhere, but to the server's port only.
            ingress: Some(vec![NetworkPolicyIngressRule {
                ports: Some(vec![NetworkPolicyPort {
                    port: Some(IntOrString::Int(i32::from(spec.port))),
                    protocol: Some("TCP".into()),
                    ..NetworkPolicyPort::default()
                }]),
                ..NetworkPolicyIngressRule::default()
            }]),
            ..NetworkPolicySpec::default()
        }),
    }
}

pub fn service_account(name: &str, spec: &K8sSpec) -> ServiceAccount {
    ServiceAccount {
        metadata: meta(name, spec),
        // The server calls no Kubernetes API: no token in the pod.
        automount_service_account_token: Some(false),
        ..ServiceAccount::default()
    }
}

/// KServe's `InferenceService` (`serving.kserve.io/v1beta1`): our own
/// serde types for the custom resource, with k8s-openapi's `Container`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InferenceService {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: InferenceServiceSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferenceServiceSpec {
    pub predictor: PredictorSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PredictorSpec {
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub service_account_name: String,
    pub security_context: PodSecurityContext,
    pub containers: Vec<Container>,
}

pub fn inference_service(name: &str, spec: &K8sSpec) -> InferenceService {
    let mut annotations = scrape_annotations(spec);
    // A plain Deployment and Service, no Knative: works on any cluster
    // with KServe's controller.
    annotations.insert(
        "serving.kserve.io/deploymentMode".into(),
        "RawDeployment".into(),
    );
    InferenceService {
        api_version: "serving.kserve.io/v1beta1".into(),
        kind: "InferenceService".into(),
        metadata: ObjectMeta {
            annotations: Some(annotations),
            ..meta(name, spec)
        },
        spec: InferenceServiceSpec {
            predictor: PredictorSpec {
                min_replicas: spec.min_replicas,
                max_replicas: spec.max_replicas,
                service_account_name: name.to_string(),
                security_context: PodSecurityContext {
                    run_as_non_root: Some(true),
                    seccomp_profile: Some(seccomp()),
                    ..PodSecurityContext::default()
                },
                // KServe names a single custom container `kserve-container`
                // and reads the protocol from its PROTOCOL variable; the port
                // name `http1` is valid in both deployment modes.
                containers: vec![container(
                    "kserve-container",
                    "http1",
                    spec,
                    vec![EnvVar {
                        name: "PROTOCOL".into(),
                        value: Some("v2".into()),
                        ..EnvVar::default()
                    }],
                )],
            },
        },
    }
}

/// Every manifest, in the order `kubectl apply` should meet them, each with
/// a line of explanation.
pub fn manifests(spec: &K8sSpec) -> Result<Vec<Manifest>> {
    let name = resource_name(&spec.model_name)?;
    let m = |file: &str, kind: &str, explanation: String, yaml: Result<String>| {
        Ok::<_, ExportError>(Manifest {
            file_name: file.to_string(),
            kind: kind.to_string(),
            explanation,
            yaml: yaml?,
        })
    };
    Ok(vec![
        m(
            "serviceaccount.yaml",
            "ServiceAccount",
            "The pods' identity, with no API token mounted: the server calls no Kubernetes API (least privilege).".to_string(),
            to_yaml("ServiceAccount", &service_account(&name, spec)),
        )?,
        m(
            "deployment.yaml",
            "Deployment",
            format!(
                "Runs {} (loaded into the cluster, never pulled) as user {IMAGE_UID}, read-only, no capabilities; readiness on {READY_PATH}, liveness on {LIVE_PATH}; Prometheus scrapes {METRICS_PATH}; the autoscaler sets the replicas.",
                spec.image
            ),
            to_yaml("Deployment", &deployment(&name, spec)),
        )?,
        m(
            "service.yaml",
            "Service",
            format!("A stable in-cluster address (port 80) for the ready pods, like the lab's gateway: http://{name}/v2/models/{}/infer.", spec.model_name),
            to_yaml("Service", &service(&name, spec)),
        )?,
        m(
            "hpa.yaml",
            "HorizontalPodAutoscaler",
            format!(
                "Scales the Deployment between {} and {} replicas to keep CPU near 70% of the request (needs metrics-server).",
                spec.min_replicas, spec.max_replicas
            ),
            to_yaml("HorizontalPodAutoscaler", &autoscaler(&name, spec)),
        )?,
        m(
            "pdb.yaml",
            "PodDisruptionBudget",
            "Lets node drains and upgrades evict one pod at a time, so the others keep serving.".to_string(),
            to_yaml("PodDisruptionBudget", &disruption_budget(&name, spec)),
        )?,
        m(
            "networkpolicy.yaml",
            "NetworkPolicy",
            format!("Admits traffic to the server's port {} only (enforced by a CNI that supports policies, e.g. Calico or Cilium).", spec.port),
            to_yaml("NetworkPolicy", &network_policy(&name, spec)),
        )?,
        m(
            "inferenceservice.yaml",
            "InferenceService",
            "The same server as a KServe InferenceService (v1beta1, custom predictor speaking the v2 protocol, RawDeployment): apply it instead of the Deployment and Service on a cluster with KServe.".to_string(),
            to_yaml("InferenceService", &inference_service(&name, spec)),
        )?,
    ])
}
