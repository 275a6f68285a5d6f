//! Training on the real datasets: parity with scikit-learn, reproducibility,
//! every model, and the artifact round trip.

use std::collections::BTreeMap;

use lab_data::{Catalog, PrepareOptions, Prepared, SplitSpec, Target, TaskSpec, prepare, read_csv};
use lab_model::{ModelArtifact, ModelKind, Prediction, Task};
use lab_train::{TrainOutput, gate, train};

fn prepared(dataset: &str, target: Option<&str>, split: SplitSpec) -> Prepared {
    let c = Catalog::load_default().unwrap();
    let d = c.dataset(dataset).unwrap();
    let t = read_csv(&c.path_of(d), &d.column_types()).unwrap();
    let task = TaskSpec::from_catalog(&c.root, d, d.target(target).unwrap(), None);
    prepare(
        &t,
        &task,
        &PrepareOptions {
            split,
            ..Default::default()
        },
    )
    .unwrap()
}

fn fit(p: &Prepared, kind: ModelKind, params: &[(&str, &str)]) -> TrainOutput {
    let params: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    train(p, kind, &params, 42).unwrap()
}

const SEEDED: SplitSpec = SplitSpec::Seeded {
    seed: 42,
    test_fraction: 0.25,
};

/// scikit-learn 1.9.1 on the same split, standard scaling, C=1:
/// `LogisticRegression().fit(...).score(...)` (sample-data/splits/make_splits.py).
#[test]
fn logistic_regression_matches_scikit_learn_on_the_reference_splits() {
    let wine = fit(
        &prepared("wine-quality-red", None, SplitSpec::Reference),
        ModelKind::LogisticRegression,
        &[],
    );
    let acc = wine.test.metrics["accuracy"];
    assert!(
        (acc - 0.735).abs() <= 0.01,
        "wine accuracy {acc}, scikit-learn 0.735"
    );

    let penguins = prepared("penguins", None, SplitSpec::Reference);
    assert_eq!(penguins.preprocessor.features.len(), 4);
    assert_eq!(penguins.train_rows.len() + penguins.test_rows.len(), 342);
    let out = fit(&penguins, ModelKind::LogisticRegression, &[]);
    let acc = out.test.metrics["accuracy"];
    assert!(
        (acc - 1.0).abs() <= 0.01,
        "penguins accuracy {acc}, scikit-learn 1.000"
    );
    assert!(matches!(
        out.artifact.model,
        lab_model::FittedModel::MultinomialLogisticRegression(_)
    ));
}

#[test]
fn deterministic_models_give_byte_identical_artifacts() {
    let cls = prepared("wine-quality-red", None, SplitSpec::Reference);
    let reg = prepared("auto-mpg", None, SEEDED);
    let cases: [(&Prepared, ModelKind); 4] = [
        (&cls, ModelKind::LogisticRegression),
        (&cls, ModelKind::GaussianNb),
        (&reg, ModelKind::LinearRegression),
        (&reg, ModelKind::ElasticNet),
    ];
    for (p, kind) in cases {
        let a = fit(p, kind, &[]);
        let b = fit(p, kind, &[]);
        assert!(a.deterministic, "{kind}");
        assert_eq!(a.test.metrics, b.test.metrics, "{kind}: metrics");
        assert_eq!(
            a.artifact.to_json_bytes(),
            b.artifact.to_json_bytes(),
            "{kind}: artifact bytes"
        );
        // And it reads back to the same bytes and the same predictions.
        let bytes = a.artifact.to_json_bytes();
        let back = ModelArtifact::from_json_bytes(&bytes, "test").unwrap();
        assert_eq!(back.to_json_bytes(), bytes, "{kind}: round trip");
        assert_eq!(
            back.predict_encoded(&p.x_test).unwrap(),
            a.artifact.predict_encoded(&p.x_test).unwrap()
        );
    }
}

#[test]
fn full_depth_tree_says_it_is_not_deterministic() {
    let p = prepared("wine-quality-red", None, SplitSpec::Reference);
    let out = fit(&p, ModelKind::DecisionTree, &[]);
    assert!(!out.deterministic);
    assert!(out.notes[0].contains("HashMap order"), "{:?}", out.notes);
    let shallow = fit(&p, ModelKind::DecisionTree, &[("max_depth", "4")]);
    assert!(shallow.deterministic && shallow.notes.is_empty());
    assert!(shallow.test.metrics["accuracy"] > 0.65);
}

#[test]
fn every_model_trains_on_a_fitting_dataset() {
    let cls = prepared("iris", None, SplitSpec::Reference);
    for kind in [
        ModelKind::LogisticRegression,
        ModelKind::DecisionTree,
        ModelKind::GaussianNb,
    ] {
        let out = fit(
            &cls,
            kind,
            &[("max_depth", "5")]
                .into_iter()
                .filter(|_| kind == ModelKind::DecisionTree)
                .collect::<Vec<_>>(),
        );
        assert!(
            out.test.metrics["accuracy"] > 0.85,
            "{kind}: {:?}",
            out.test.metrics
        );
        let cm = out.test.confusion_matrix.unwrap();
        assert_eq!(cm.iter().flatten().sum::<usize>(), 38);
    }
    let reg = prepared("auto-mpg", None, SEEDED);
    let lin = fit(&reg, ModelKind::LinearRegression, &[]);
    assert!(lin.test.metrics["r2"] > 0.75, "{:?}", lin.test.metrics);
    let enet = fit(&reg, ModelKind::ElasticNet, &[("alpha", "0.1")]);
    assert!(enet.test.metrics["r2"] > 0.7, "{:?}", enet.test.metrics);
    let km = fit(&cls, ModelKind::KMeans, &[("n_clusters", "3")]);
    assert_eq!(km.artifact.task, Task::Clustering);
    assert_eq!(km.test.metrics["clusters_used"], 3.0);
    // Regression models refuse a classification task with a hint.
    let e = train(&cls, ModelKind::LinearRegression, &BTreeMap::new(), 1).unwrap_err();
    assert!(e.to_string().contains("for classification use"), "{e}");
}

#[test]
fn binary_metrics_include_roc_auc_and_the_gate_reads_the_catalogue() {
    let p = prepared("wine-quality-red", None, SplitSpec::Reference);
    let out = fit(&p, ModelKind::LogisticRegression, &[]);
    let auc = out.test.metrics["roc_auc"];
    assert!(auc > 0.8 && auc < 0.9, "{auc}");
    let g = gate(&out.test.metrics, &p.task.gate);
    assert!(g.passed, "{g:?}");
    let strict = gate(&out.test.metrics, &[("accuracy".to_string(), 0.9)].into());
    assert!(!strict.passed);
}

#[test]
fn predict_from_raw_rows_equals_predict_on_the_matrix() {
    let p = prepared("penguins", Some("body_mass_g"), SEEDED);
    let out = fit(&p, ModelKind::LinearRegression, &[]);
    let from_rows = out.artifact.predict_rows(&p.raw_test).unwrap();
    let from_matrix = out
        .artifact
        .to_predictions(out.artifact.predict_encoded(&p.x_test).unwrap());
    assert_eq!(from_rows, from_matrix);

    let p = prepared("wine-quality-red", None, SplitSpec::Reference);
    let out = fit(&p, ModelKind::LogisticRegression, &[]);
    let preds = out.artifact.predict_rows(&p.raw_test).unwrap();
    let Target::Classes(truth) = &p.y_test else {
        panic!()
    };
    let correct = preds
        .iter()
        .zip(truth)
        .filter(|(pr, t)| matches!(pr, Prediction::Class { class_index, .. } if class_index == *t))
        .count();
    assert_eq!(
        correct as f64 / truth.len() as f64,
        out.test.metrics["accuracy"]
    );
    if let Prediction::Class {
        probabilities: Some(pr),
        label,
        ..
    } = &preds[0]
    {
        assert!((pr.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(label == "good" || label == "not-good");
    } else {
        panic!("a logistic classifier returns probabilities");
    }
}

#[test]
fn artifact_of_another_format_version_is_refused() {
    let p = prepared("iris", None, SplitSpec::Reference);
    let out = fit(&p, ModelKind::GaussianNb, &[]);
    let mut v: serde_json::Value = serde_json::from_slice(&out.artifact.to_json_bytes()).unwrap();
    v["format_version"] = 99.into();
    let e = ModelArtifact::from_json_bytes(&serde_json::to_vec(&v).unwrap(), "m.json").unwrap_err();
    assert!(e.to_string().contains("format version 99"), "{e}");
    let e = ModelArtifact::from_json_bytes(b"{not json", "m.json").unwrap_err();
    assert!(e.to_string().contains("m.json"), "{e}");
}
