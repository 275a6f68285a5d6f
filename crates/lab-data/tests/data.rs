//! The data step on the real shipped datasets and on broken files.

use std::collections::BTreeMap;
use std::path::PathBuf;

use lab_data::{
    Catalog, DataError, PrepareOptions, SplitSpec, Target, TaskSpec, prepare, profile, read_csv,
    scenario_slices, validate,
};
use lab_model::{MissingPolicy, Task};

fn catalog() -> Catalog {
    Catalog::load_default().expect("the shipped catalogue loads")
}

#[test]
fn every_sample_dataset_loads_profiles_and_validates() {
    let c = catalog();
    assert_eq!(
        c.names(),
        [
            "wine-quality-red",
            "penguins",
            "auto-mpg",
            "bike-sharing",
            "iris"
        ]
    );
    for d in &c.datasets {
        let t = read_csv(&c.path_of(d), &d.column_types()).unwrap();
        assert_eq!(t.df.height(), d.rows, "{}: rows", d.name);
        assert_eq!(t.df.width(), d.columns, "{}: columns", d.name);
        let p = profile(&t).unwrap();
        assert_eq!(p.columns.len(), d.columns);
        for col in &p.columns {
            assert_eq!(
                col.count + col.null_count,
                d.rows,
                "{}.{}",
                d.name,
                col.name
            );
            if col.kind == "numeric" {
                let (min, p50, max) = (col.min.unwrap(), col.p50.unwrap(), col.max.unwrap());
                assert!(min <= p50 && p50 <= max, "{}.{}", d.name, col.name);
                let h = col.histogram.as_ref().unwrap();
                assert_eq!(h.counts.iter().sum::<usize>(), col.count);
            } else {
                assert!(!col.top.is_empty());
            }
        }
        let report = validate(&t, d.expect.as_ref()).unwrap();
        let failed: Vec<_> = report.results.iter().filter(|r| !r.passed).collect();
        assert!(failed.is_empty(), "{}: {failed:?}", d.name);
        assert!(report.passed > d.columns, "{}: expectations ran", d.name);
        for target in &d.targets {
            let task = TaskSpec::from_catalog(&c.root, d, target, None);
            let split = if task.reference_split.is_some() {
                SplitSpec::Reference
            } else {
                PrepareOptions::default().split
            };
            let p = prepare(
                &t,
                &task,
                &PrepareOptions {
                    split,
                    missing: MissingPolicy::Impute,
                    ..Default::default()
                },
            )
            .unwrap();
            assert_eq!(p.x_train.nrows(), p.y_train.len());
            assert_eq!(p.x_test.ncols(), p.preprocessor.n_encoded());
        }
    }
}

#[test]
fn penguins_profile_sees_the_real_missing_values() {
    let c = catalog();
    let d = c.dataset("penguins").unwrap();
    let t = read_csv(&c.path_of(d), &d.column_types()).unwrap();
    let p = profile(&t).unwrap();
    let sex = p.columns.iter().find(|c| c.name == "sex").unwrap();
    assert_eq!(sex.null_count, 11);
    let bill = p
        .columns
        .iter()
        .find(|c| c.name == "bill_length_mm")
        .unwrap();
    assert_eq!(bill.null_count, 2);
    assert!((bill.mean.unwrap() - 43.92193).abs() < 1e-4);
    // pandas' describe(): std with ddof=1, linear quantiles.
    assert!((bill.std.unwrap() - 5.459584).abs() < 1e-5);
    assert!((bill.p25.unwrap() - 39.225).abs() < 1e-9);
}

#[test]
fn reference_splits_are_scikit_learns_sizes() {
    let c = catalog();
    for (name, train, test) in [
        ("wine-quality-red", 1199, 400),
        ("penguins", 256, 86),
        ("iris", 112, 38),
    ] {
        let d = c.dataset(name).unwrap();
        let t = read_csv(&c.path_of(d), &d.column_types()).unwrap();
        let task = TaskSpec::from_catalog(&c.root, d, d.target(None).unwrap(), None);
        let p = prepare(
            &t,
            &task,
            &PrepareOptions {
                split: SplitSpec::Reference,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            (p.train_rows.len(), p.test_rows.len()),
            (train, test),
            "{name}"
        );
        if name == "penguins" {
            // The two all-NA penguins (rows 3 and 271) are in neither set.
            for r in [3, 271] {
                assert!(!p.train_rows.contains(&r) && !p.test_rows.contains(&r));
            }
        }
    }
}

#[test]
fn one_hot_and_imputation_are_fitted_on_train_only() {
    let c = catalog();
    let d = c.dataset("penguins").unwrap();
    let t = read_csv(&c.path_of(d), &d.column_types()).unwrap();
    let target = d.target(Some("body_mass_g")).unwrap();
    let task = TaskSpec::from_catalog(&c.root, d, target, None);
    let drop = prepare(&t, &task, &PrepareOptions::default()).unwrap();
    let impute = prepare(
        &t,
        &task,
        &PrepareOptions {
            missing: MissingPolicy::Impute,
            ..Default::default()
        },
    )
    .unwrap();
    // 2 rows lack the target; 9 more lack `sex`.
    assert_eq!(drop.train_rows.len() + drop.test_rows.len(), 333);
    assert_eq!(impute.train_rows.len() + impute.test_rows.len(), 342);
    let names = impute.preprocessor.encoded_names();
    assert!(names.contains(&"island=Biscoe".to_string()), "{names:?}");
    assert!(names.contains(&"sex=female".to_string()));
    assert!(matches!(impute.y_train, Target::Values(_)));
    // Scaled numeric training columns have mean 0 (one-hot columns are not scaled).
    let col = names.iter().position(|n| n == "bill_length_mm").unwrap();
    let mean = impute.x_train.column(col).mean().unwrap();
    assert!(mean.abs() < 1e-9, "{mean}");
}

#[test]
fn seeded_split_is_deterministic_and_changes_with_the_seed() {
    let c = catalog();
    let d = c.dataset("auto-mpg").unwrap();
    let t = read_csv(&c.path_of(d), &d.column_types()).unwrap();
    let task = TaskSpec::from_catalog(&c.root, d, d.target(None).unwrap(), None);
    let opts = |seed| PrepareOptions {
        split: SplitSpec::Seeded {
            seed,
            test_fraction: 0.25,
        },
        ..Default::default()
    };
    let a = prepare(&t, &task, &opts(1)).unwrap();
    let b = prepare(&t, &task, &opts(1)).unwrap();
    let c2 = prepare(&t, &task, &opts(2)).unwrap();
    assert_eq!(a.test_rows, b.test_rows);
    assert_eq!(a.x_train, b.x_train);
    assert_ne!(a.test_rows, c2.test_rows);
    assert_eq!(a.test_rows.len(), 98);
}

#[test]
fn drift_scenarios_slice_the_real_data() {
    let c = catalog();
    let expect = [
        ("penguins-island", 176, 168),
        ("penguins-year", 224, 120),
        ("auto-mpg-drift", 214, 178),
        ("bike-sharing-seasonal", 2786, 2195),
    ];
    for (name, reference, current) in expect {
        let (d, s) = c.scenario(name).unwrap();
        let t = read_csv(&c.path_of(d), &d.column_types()).unwrap();
        let (r, cur) = scenario_slices(&t, s).unwrap();
        assert_eq!(
            (r.df.height(), cur.df.height()),
            (reference, current),
            "{name}"
        );
    }
    assert!(matches!(
        c.scenario("nope"),
        Err(DataError::UnknownScenario { .. })
    ));
}

fn write(dir: &tempfile::TempDir, name: &str, body: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn file_task(path: &std::path::Path, target: &str) -> Result<(), DataError> {
    let t = read_csv(path, &BTreeMap::new())?;
    let task = TaskSpec::for_file(&t, target, None, None)?;
    prepare(&t, &task, &PrepareOptions::default()).map(|_| ())
}

#[test]
fn each_bad_csv_gets_its_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = |e: DataError| e.to_string();

    let e = file_task(&dir.path().join("missing.csv"), "y").unwrap_err();
    assert!(matches!(e, DataError::Unreadable { .. }), "{e}");
    assert!(err(e).contains("missing.csv"));

    let e = file_task(&write(&dir, "empty.csv", ""), "y").unwrap_err();
    assert!(matches!(e, DataError::Empty { .. }), "{e}");

    let e = file_task(&write(&dir, "header.csv", "a,b,y\n"), "y").unwrap_err();
    assert!(matches!(e, DataError::NoRows { .. }), "{e}");

    let p = write(&dir, "target.csv", "a,b,y\n1,2,x\n3,4,y\n");
    let e = file_task(&p, "label").unwrap_err();
    let msg = err(e);
    assert!(
        msg.contains("target.csv") && msg.contains("`label`") && msg.contains("a, b, y"),
        "{msg}"
    );

    let p = write(&dir, "text.csv", "a,b,y\n1,2,x\n3,4,y\n5,six,x\n7,8,y\n");
    let e = file_task(&p, "y").unwrap_err();
    match &e {
        DataError::TextInNumeric {
            line,
            column,
            value,
            ..
        } => {
            assert_eq!((*line, column.as_str(), value.as_str()), (4, "b", "six"));
        }
        other => panic!("expected TextInNumeric, got {other}"),
    }
    assert!(err(e).contains("text.csv, line 4, column `b`"));

    let p = write(&dir, "const.csv", "a,b,y\n1,7,x\n2,7,y\n3,7,x\n4,7,y\n");
    let e = file_task(&p, "y").unwrap_err();
    assert!(
        matches!(e, DataError::ConstantFeature { ref column, .. } if column == "b"),
        "{e}"
    );

    let p = write(&dir, "null.csv", "a,b,y\n1,NA,x\n2,,y\n3,NA,x\n4,NA,y\n");
    let e = file_task(&p, "y").unwrap_err();
    assert!(
        matches!(e, DataError::AllNullFeature { ref column, .. } if column == "b"),
        "{e}"
    );

    let p = write(&dir, "ragged.csv", "a,b,y\n1,2,x\n3,4\n5,6,y\n");
    let e = file_task(&p, "y").unwrap_err();
    assert!(err(e).contains("line 3 has 2 fields, the header has 3"));

    let p = write(&dir, "quote.csv", "a,b,y\n1,2,x\n\"3,4,y\n");
    let e = file_task(&p, "y").unwrap_err();
    assert!(err(e).contains("line 3: a quoted field is never closed"));
}

#[test]
fn catalog_types_make_text_in_a_numeric_column_fail_even_when_inference_says_text() {
    // In the catalogue `alcohol` is a float: a typo on one line must fail
    // loudly (with its line), not become a category or a null.
    let c = catalog();
    let d = c.dataset("wine-quality-red").unwrap();
    let original = std::fs::read_to_string(c.path_of(d)).unwrap();
    let mut lines: Vec<String> = original.lines().map(String::from).collect();
    let mut fields: Vec<String> = lines[10].split(',').map(String::from).collect();
    fields[10] = "ten".into();
    lines[10] = fields.join(",");
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "wine.csv", &(lines.join("\n") + "\n"));
    let e = read_csv(&p, &d.column_types()).unwrap_err();
    assert!(
        e.to_string()
            .contains("line 11, column `alcohol`: expected a number, found \"ten\""),
        "{e}"
    );
}

#[test]
fn learners_file_infers_its_task_and_takes_every_other_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "mine.csv",
        "size,colour,price\n1,red,10\n2,blue,20\n3,red,30\n4,blue,40\n5,red,50\n6,blue,60\n7,red,70\n8,blue,80\n",
    );
    let t = read_csv(&p, &BTreeMap::new()).unwrap();
    let task = TaskSpec::for_file(&t, "price", None, None).unwrap();
    assert_eq!(task.task, Task::Regression);
    assert_eq!(task.features, ["size", "colour"]);
    let task = TaskSpec::for_file(&t, "colour", None, None).unwrap();
    assert_eq!(task.task, Task::BinaryClassification);
    let prepared = prepare(&t, &task, &PrepareOptions::default()).unwrap();
    assert_eq!(prepared.classes, ["blue", "red"]);
    assert_eq!(prepared.test_rows.len(), 2);
}
