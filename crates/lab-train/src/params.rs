//! Hyper-parameters: names, defaults and checks, per model.

use std::collections::BTreeMap;

use lab_model::ModelKind;
use serde::Serialize;

use crate::{Result, TrainError};

#[derive(Debug, Clone, Serialize)]
pub struct ParamSpec {
    pub name: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

const fn p(name: &'static str, default: &'static str, help: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        default,
        help,
    }
}

const LOGISTIC: &[ParamSpec] = &[
    p(
        "C",
        "1.0",
        "inverse L2 regularisation strength (linfa alpha = 1/C)",
    ),
    p("max_iter", "100", "L-BFGS iterations"),
    p("tol", "0.0001", "gradient tolerance"),
    p("fit_intercept", "true", "learn an intercept"),
];
const TREE: &[ParamSpec] = &[
    p(
        "max_depth",
        "none",
        "maximum depth; none grows until leaves are pure",
    ),
    p("criterion", "gini", "gini or entropy"),
    p(
        "min_samples_split",
        "2",
        "minimum (weighted) samples to split a node",
    ),
    p(
        "min_samples_leaf",
        "1",
        "minimum (weighted) samples in a leaf",
    ),
];
const NB: &[ParamSpec] = &[p(
    "var_smoothing",
    "1e-9",
    "share of the largest variance added to all variances",
)];
const LINEAR: &[ParamSpec] = &[p("fit_intercept", "true", "learn an intercept")];
const ELASTIC: &[ParamSpec] = &[
    p("alpha", "1.0", "overall penalty strength"),
    p("l1_ratio", "0.5", "mix of L1 (1.0) and L2 (0.0)"),
    p("max_iter", "1000", "coordinate-descent iterations"),
    p("tol", "0.0001", "tolerance"),
    p("fit_intercept", "true", "learn an intercept"),
];
const KMEANS: &[ParamSpec] = &[
    p("n_clusters", "3", "number of clusters"),
    p(
        "n_init",
        "10",
        "runs with different centroid seeds; the best is kept",
    ),
    p("max_iter", "300", "iterations per run"),
    p("tol", "0.0001", "convergence tolerance"),
];

/// The parameters each model takes, with scikit-learn-like names and defaults.
pub fn param_specs(kind: ModelKind) -> &'static [ParamSpec] {
    match kind {
        ModelKind::LogisticRegression => LOGISTIC,
        ModelKind::DecisionTree => TREE,
        ModelKind::GaussianNb => NB,
        ModelKind::LinearRegression => LINEAR,
        ModelKind::ElasticNet => ELASTIC,
        ModelKind::KMeans => KMEANS,
    }
}

/// Merge user params over the defaults, rejecting unknown names and values
/// that do not parse.
pub fn resolve_params(
    kind: ModelKind,
    given: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>> {
    let specs = param_specs(kind);
    let mut out: BTreeMap<String, String> = specs
        .iter()
        .map(|s| (s.name.to_string(), s.default.to_string()))
        .collect();
    for (k, v) in given {
        let Some(spec) = specs.iter().find(|s| s.name.eq_ignore_ascii_case(k)) else {
            return Err(TrainError::Param {
                model: kind.to_string(),
                param: k.clone(),
                message: format!(
                    "unknown parameter; {kind} takes: {}",
                    specs.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
                ),
            });
        };
        out.insert(spec.name.to_string(), v.trim().to_string());
    }
    // Check every value parses now, so errors come before any work.
    let r = Resolved { kind, map: &out };
    match kind {
        ModelKind::LogisticRegression => {
            r.positive_f64("C")?;
            r.usize("max_iter")?;
            r.positive_f64("tol")?;
            r.bool("fit_intercept")?;
        }
        ModelKind::DecisionTree => {
            r.opt_usize("max_depth")?;
            r.criterion()?;
            r.positive_f64("min_samples_split")?;
            r.positive_f64("min_samples_leaf")?;
        }
        ModelKind::GaussianNb => {
            r.positive_f64("var_smoothing")?;
        }
        ModelKind::LinearRegression => {
            r.bool("fit_intercept")?;
        }
        ModelKind::ElasticNet => {
            r.non_negative_f64("alpha")?;
            let l1 = r.non_negative_f64("l1_ratio")?;
            if l1 > 1.0 {
                return Err(r.err("l1_ratio", "must be between 0 and 1"));
            }
            r.usize("max_iter")?;
            r.positive_f64("tol")?;
            r.bool("fit_intercept")?;
        }
        ModelKind::KMeans => {
            if r.usize("n_clusters")? < 1 {
                return Err(r.err("n_clusters", "must be at least 1"));
            }
            r.usize("n_init")?;
            r.usize("max_iter")?;
            r.positive_f64("tol")?;
        }
    }
    Ok(out)
}

/// Typed access to resolved params.
pub(crate) struct Resolved<'a> {
    pub kind: ModelKind,
    pub map: &'a BTreeMap<String, String>,
}

impl Resolved<'_> {
    pub fn err(&self, param: &str, message: &str) -> TrainError {
        TrainError::Param {
            model: self.kind.to_string(),
            param: param.to_string(),
            message: message.to_string(),
        }
    }
    fn raw(&self, k: &str) -> &str {
        self.map.get(k).map(String::as_str).unwrap_or("")
    }
    pub fn f64(&self, k: &str) -> Result<f64> {
        self.raw(k)
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| self.err(k, &format!("`{}` is not a number", self.raw(k))))
    }
    pub fn positive_f64(&self, k: &str) -> Result<f64> {
        let v = self.f64(k)?;
        if v > 0.0 {
            Ok(v)
        } else {
            Err(self.err(k, "must be greater than 0"))
        }
    }
    pub fn non_negative_f64(&self, k: &str) -> Result<f64> {
        let v = self.f64(k)?;
        if v >= 0.0 {
            Ok(v)
        } else {
            Err(self.err(k, "must be 0 or more"))
        }
    }
    pub fn usize(&self, k: &str) -> Result<usize> {
        self.raw(k)
            .parse::<usize>()
            .map_err(|_| self.err(k, &format!("`{}` is not a whole number", self.raw(k))))
    }
    pub fn opt_usize(&self, k: &str) -> Result<Option<usize>> {
        match self.raw(k) {
            "none" | "None" | "" => Ok(None),
            _ => {
                let v = self.usize(k)?;
                if v == 0 {
                    Err(self.err(k, "must be at least 1, or none"))
                } else {
                    Ok(Some(v))
                }
            }
        }
    }
    pub fn bool(&self, k: &str) -> Result<bool> {
        match self.raw(k) {
            "true" | "True" | "1" | "yes" => Ok(true),
            "false" | "False" | "0" | "no" => Ok(false),
            other => Err(self.err(k, &format!("`{other}` is not true or false"))),
        }
    }
    pub fn criterion(&self) -> Result<linfa_trees::SplitQuality> {
        match self.raw("criterion") {
            "gini" => Ok(linfa_trees::SplitQuality::Gini),
            "entropy" => Ok(linfa_trees::SplitQuality::Entropy),
            other => Err(self.err("criterion", &format!("`{other}`: use gini or entropy"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_bad_params_are_refused_with_the_list() {
        let mut given = BTreeMap::new();
        given.insert("depth".to_string(), "3".to_string());
        let e = resolve_params(ModelKind::DecisionTree, &given).unwrap_err();
        assert!(e.to_string().contains("max_depth"), "{e}");
        let mut given = BTreeMap::new();
        given.insert("c".to_string(), "-1".to_string());
        let e = resolve_params(ModelKind::LogisticRegression, &given).unwrap_err();
        assert!(e.to_string().contains("greater than 0"), "{e}");
        let ok = resolve_params(ModelKind::LogisticRegression, &BTreeMap::new()).unwrap();
        assert_eq!(ok["C"], "1.0");
    }
}
