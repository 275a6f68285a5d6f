//! The shipped lessons against a real lab (a temporary lab home, its real
//! SQLite file, the shipped datasets, Docker when it answers, as under
//! `cargo xtask test`): every file parses and names what exists; every
//! checkpoint fails before the lesson is done, even with demo data made
//! before it started, and passes after its solve list.

use lab_lessons::{Course, LessonError};
use lab_pipeline::{Catalog, Lab, LabHome};

fn lab() -> (tempfile::TempDir, Lab) {
    let dir = tempfile::tempdir().unwrap();
    let home = LabHome::at(dir.path().join("home")).unwrap();
    let lab = Lab::open(&home, Catalog::load_default().unwrap()).unwrap();
    (dir, lab)
}

/// The shipped course, its exercises in a workspace of the test's own and
/// run with the tests' Python (`cargo xtask test` installs it:
/// MLOPS_LAB_VENV).
fn course() -> Course {
    let mut c = Course::load_default().unwrap();
    static WORKSPACE: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    c.workspace = Some(
        WORKSPACE
            .get_or_init(|| tempfile::tempdir().unwrap())
            .path()
            .into(),
    );
    let venv = std::env::var_os("MLOPS_LAB_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".cache/mlops-lab/venv-tests")
        });
    c.python = Some(venv.join("bin/python"));
    c
}

/// The learner's part the lab cannot do for them: each exercise the
/// lesson's checkpoint names, written as the reference solution in
/// `tests/exercises/` would be, then checked.
fn do_exercises(c: &Course, lab: &Lab, lesson: &lab_lessons::Lesson) {
    let ex = c.exercises(lab).unwrap();
    for check in &lesson.checks {
        if let lab_lessons::Predicate::Exercise { exercise } = &check.predicate {
            ex.start(lab, exercise).unwrap();
            let solution = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/exercises")
                .join(exercise)
                .join("solution");
            for f in std::fs::read_dir(solution).unwrap() {
                let f = f.unwrap();
                std::fs::copy(f.path(), ex.folder(exercise).unwrap().join(f.file_name())).unwrap();
            }
            let r = ex.check(lab, exercise).unwrap();
            assert!(r.passed, "{}: {r:#?}", lesson.id);
        }
    }
}

#[test]
fn every_lesson_parses_and_names_what_exists() {
    let (_d, lab) = lab();
    let c = course();
    assert!(c.lessons().len() >= 5, "{} lessons", c.lessons().len());
    c.validate(&lab).unwrap();
    for l in c.lessons() {
        assert!(!l.objectives.is_empty(), "{}: objectives", l.id);
        assert!(
            l.body.contains("```python"),
            "{}: the Python a learner writes at work",
            l.id
        );
        assert!(
            l.body.contains("Written for"),
            "{}: the library versions",
            l.id
        );
        assert!(!l.quiz.is_empty(), "{}: a quiz", l.id);
    }
}

fn write(dir: &std::path::Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

const GOOD: &str = r#"+++
id = "x-01"
title = "t"
month = 1
minutes = 5
objectives = ["o"]
hints = ["a", "b", "c"]
solve = [{ kind = "profile", dataset = "iris" }]

[concept]
devops = "d"
mlops = "m"
why = "w"

[[check]]
name = "profiled"
fail = "profile iris"
predicate = { kind = "data", dataset = "iris", action = "profiled" }
+++
Body with a [link](x-01.md).
"#;

#[test]
fn mistakes_in_a_lesson_file_name_the_file_and_line() {
    let (_d, lab) = lab();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "x-01.md", GOOD);
    Course::load(dir.path()).unwrap().validate(&lab).unwrap();

    let cases = [
        // An unknown key (a misspelt field) is an error, not ignored.
        (
            GOOD.replace("minutes = 5", "minutes = 5\nminuets = 5"),
            ":6:",
            "minuets",
        ),
        // An unknown action.
        (
            GOOD.replace("kind = \"profile\"", "kind = \"proflie\""),
            ":8:",
            "proflie",
        ),
        // An unknown predicate.
        (
            GOOD.replace("kind = \"data\"", "kind = \"date\""),
            ":18:",
            "date",
        ),
    ];
    for (text, line, what) in cases {
        write(dir.path(), "x-01.md", &text);
        let e = Course::load(dir.path())
            .err()
            .expect("must fail")
            .to_string();
        assert!(
            e.contains("x-01.md") && e.contains(line) && e.contains(what),
            "{e}"
        );
    }
    // Needs the lab: a dataset that does not exist, a broken link.
    let cases = [
        (
            GOOD.replace("dataset = \"iris\", action", "dataset = \"iriss\", action"),
            ":16:",
            "iriss",
        ),
        (
            GOOD.replace("(x-01.md)", "(nope.md)"),
            ":20:",
            "broken link `nope.md`",
        ),
        (
            GOOD.replace("[\"a\", \"b\", \"c\"]", "[\"a\"]"),
            ":7:",
            "1 hints",
        ),
    ];
    for (text, line, what) in cases {
        write(dir.path(), "x-01.md", &text);
        let e = Course::load(dir.path())
            .unwrap()
            .validate(&lab)
            .unwrap_err();
        assert!(matches!(e, LessonError::File { .. }), "{e}");
        let e = e.to_string();
        assert!(
            e.contains("x-01.md") && e.contains(line) && e.contains(what),
            "{e}"
        );
    }
}

/// The tests that run solve lists build and remove model images: Docker
/// tags are global, so two labs resetting and building the same model's
/// image at once would race (a build's cached layer removed under it).
static DOCKER: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn every_checkpoint_fails_before_and_passes_after_its_solve_list() {
    let _docker = DOCKER.lock().unwrap_or_else(|e| e.into_inner());
    let c = course();
    for l in c.lessons() {
        let (_d, lab) = lab();
        // Not started: nothing counts.
        assert!(
            c.check(&lab, &l.id).is_err(),
            "{}: checked before start",
            l.id
        );
        c.start(&lab, &l.id).unwrap();
        let before = c.check(&lab, &l.id).unwrap();
        assert!(!before.passed, "{}: passes with nothing done", l.id);
        for v in &before.verdicts {
            assert!(
                !v.passed,
                "{}: check `{}` passes with nothing done",
                l.id, v.name
            );
            let fail = &l.checks.iter().find(|x| x.name == v.name).unwrap().fail;
            assert!(
                v.message.starts_with(fail.as_str()),
                "{}: {}",
                l.id,
                v.message
            );
        }
        c.skip(&lab, &l.id, &|_| {}).unwrap();
        do_exercises(&c, &lab, l);
        let after = c.check(&lab, &l.id).unwrap();
        assert!(after.passed, "{}: {:#?}", l.id, after.verdicts);
        assert_eq!(after.status, "skipped", "{}: skipping is not passing", l.id);
        // The containers and images a lesson made go with its lab.
        lab.reset().unwrap();
    }
}

#[test]
fn work_done_before_the_lesson_started_does_not_count() {
    let _docker = DOCKER.lock().unwrap_or_else(|e| e.into_inner());
    let c = course();
    for l in c.lessons() {
        let (_d, lab) = lab();
        // Demo data: the whole lesson done before it is started.
        let ex = c.exercises(&lab).unwrap();
        for a in &l.solve {
            a.run(&lab, &ex, &|_| {}).unwrap();
        }
        do_exercises(&c, &lab, l);
        std::thread::sleep(std::time::Duration::from_millis(5));
        c.start(&lab, &l.id).unwrap();
        let r = c.check(&lab, &l.id).unwrap();
        assert!(
            !r.passed,
            "{}: earlier work passed it: {:#?}",
            l.id, r.verdicts
        );
        lab.reset().unwrap();
    }
}

#[test]
fn steps_checks_hints_and_quiz_are_recorded_and_reset_one_lesson_alone() {
    let c = course();
    let (_d, lab) = lab();
    let id = "m1-06-regression";
    let l = c.lesson(id).unwrap();
    for s in &l.steps {
        c.run_step(&lab, id, &s.id, &|_| {}).unwrap();
    }
    let r = c.check(&lab, id).unwrap();
    assert!(r.passed, "{:#?}", r.verdicts);
    assert_eq!(r.status, "passed");
    assert_eq!(r.verdicts[0].evidence.len(), 1, "the run that satisfied it");

    // Hints come one level at a time, then stay at the last.
    let levels: Vec<usize> = (0..4).map(|_| c.hint(&lab, id).unwrap().level).collect();
    assert_eq!(levels, [1, 2, 3, 3]);

    // The learner's own number: the RMSE of the run that passed.
    let run = lab.run(&r.verdicts[0].evidence[0]).unwrap();
    let rmse = format!("{:.2}", run.metrics["rmse"]);
    assert!(c.answer(&lab, id, "rmse", &rmse).unwrap().correct);
    assert!(!c.answer(&lab, id, "rmse", "9.99").unwrap().correct);
    assert!(c.answer(&lab, id, "better", "1").unwrap().correct);
    assert!(!c.answer(&lab, id, "better", "elastic-net").unwrap().correct);
    assert!(c.answer(&lab, id, "rmse", "lots").is_err());
    // Not an option: an error that says which answers there are.
    let e = c.answer(&lab, id, "better", "3").unwrap_err().to_string();
    assert!(e.contains("1 to 2"), "{e}");
    // A wrong answer does not give the right one away.
    assert!(
        c.answer(&lab, id, "better", "2")
            .unwrap()
            .expected
            .is_none()
    );

    let kinds: Vec<String> = lab
        .lesson_events(id)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "step").count(), 2);
    assert_eq!(kinds.iter().filter(|k| *k == "hint").count(), 3);
    assert_eq!(kinds.iter().filter(|k| *k == "quiz").count(), 5);
    assert!(kinds.contains(&"passed".to_string()));

    // Resetting another lesson leaves this one passed; its own reset
    // forgets it, and the runs stay.
    c.start(&lab, "m1-02-profile").unwrap();
    assert_eq!(c.reset(&lab, Some("m1-02-profile")).unwrap(), 1);
    assert_eq!(lab.lesson_state(id).unwrap().unwrap().status, "passed");
    let runs = lab.runs(&Default::default()).unwrap().len();
    c.reset(&lab, None).unwrap();
    assert!(lab.lesson_states().unwrap().is_empty());
    assert_eq!(lab.runs(&Default::default()).unwrap().len(), runs);
}

#[test]
fn the_report_rechecks_evidence_and_the_last_lesson_rechecks_the_course() {
    let _docker = DOCKER.lock().unwrap_or_else(|e| e.into_inner());
    let c = course();
    let (_d, lab) = lab();
    // A passed lesson whose evidence is a run, one whose evidence is a
    // running server (a local process here: no Docker needed), a quiz
    // answer and a hint.
    for id in ["m1-06-regression", "m2-11-prediction-api"] {
        c.start(&lab, id).unwrap();
    }
    for s in &c.lesson("m1-06-regression").unwrap().steps {
        c.run_step(&lab, "m1-06-regression", &s.id, &|_| {})
            .unwrap();
    }
    assert!(c.check(&lab, "m1-06-regression").unwrap().passed);
    c.answer(&lab, "m1-06-regression", "better", "1").unwrap();
    c.hint(&lab, "m1-06-regression").unwrap();
    for a in &c.lesson("m2-11-prediction-api").unwrap().solve {
        let a = match a {
            lab_lessons::Action::Deploy { model, .. } => lab_lessons::Action::Deploy {
                model: model.clone(),
                local: true,
            },
            a => a.clone(),
        };
        a.run(&lab, &c.exercises(&lab).unwrap(), &|_| {}).unwrap();
    }
    do_exercises(&c, &lab, c.lesson("m2-11-prediction-api").unwrap());
    let api = c.check(&lab, "m2-11-prediction-api").unwrap();
    assert!(api.passed, "{:#?}", api.verdicts);
    assert!(
        api.recheck.is_none(),
        "only the last lesson re-checks the course"
    );

    let r = c.report(&lab).unwrap();
    assert_eq!((r.passed, r.skipped, r.total), (2, 0, c.lessons().len()));
    assert_eq!(r.quiz_correct, 1);
    let m106 = r
        .lessons
        .iter()
        .find(|l| l.id == "m1-06-regression")
        .unwrap();
    assert_eq!(m106.hints_shown, 1);
    assert_eq!(m106.steps_run, 2);
    assert!(
        m106.evidence.iter().all(|e| e.holds && e.note == "run"),
        "{m106:?}"
    );
    assert!(r.broken().is_empty(), "{:?}", r.broken());
    let html = r.to_html();
    assert!(html.contains("Regression: predict a number") || html.contains("m1-06-regression"));
    assert!(
        !html.contains("<script") && !html.contains("http"),
        "self-contained"
    );

    // The server stops: that evidence no longer holds, and the report says so.
    let served = &api
        .verdicts
        .iter()
        .find(|v| v.name == "serving")
        .unwrap()
        .evidence[0];
    lab.stop_deployment(served).unwrap();
    let r = c.report(&lab).unwrap();
    let broken = r.broken();
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert_eq!(broken[0].0, "m2-11-prediction-api");
    assert!(
        broken[0].1.note.contains("was stopped"),
        "{:?}",
        broken[0].1
    );
    assert!(r.to_html().contains("no longer hold"));

    // The last lesson's check re-checks every earlier lesson's evidence.
    let last = c.lessons().last().unwrap().id.clone();
    c.start(&lab, &last).unwrap();
    let done = c.check(&lab, &last).unwrap();
    let recheck = done.recheck.expect("the last lesson re-checks the course");
    assert_eq!(recheck.broken.len(), 1, "{recheck:?}");
    assert!(recheck.held >= 2, "{recheck:?}");
    lab.reset().unwrap();
}
