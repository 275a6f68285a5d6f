//! Embedded, versioned schema migrations, tracked in `PRAGMA user_version`.
//!
//! Append a new entry to [`MIGRATIONS`] to change the schema; never edit one
//! that has shipped. They run in one IMMEDIATE transaction with the version bump.

use rusqlite::Connection;

use crate::{Result, StoreError};

pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: tracking and registry, named as MLflow names them.
    r#"
CREATE TABLE experiments (
    experiment_id     TEXT PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    artifact_location TEXT NOT NULL,
    lifecycle_stage   TEXT NOT NULL DEFAULT 'active',
    creation_time     INTEGER NOT NULL,
    last_update_time  INTEGER NOT NULL
);
INSERT INTO experiments (experiment_id, name, artifact_location, creation_time, last_update_time)
VALUES ('0', 'Default', 'artifacts/0', CAST(strftime('%s','now') AS INTEGER) * 1000,
        CAST(strftime('%s','now') AS INTEGER) * 1000);

CREATE TABLE runs (
    run_uuid        TEXT PRIMARY KEY,
    experiment_id   TEXT NOT NULL REFERENCES experiments(experiment_id),
    name            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('RUNNING','SCHEDULED','FINISHED','FAILED','KILLED')),
    start_time      INTEGER NOT NULL,
    end_time        INTEGER,
    artifact_uri    TEXT NOT NULL,
    lifecycle_stage TEXT NOT NULL DEFAULT 'active',
    -- lease file of the process that owns a RUNNING run
    owner           TEXT
);
CREATE INDEX runs_by_experiment ON runs(experiment_id, start_time);

CREATE TABLE params (
    run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (run_uuid, key)
);

-- Full metric history: every logged (value, timestamp, step).
CREATE TABLE metrics (
    run_uuid  TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    value     REAL NOT NULL,
    timestamp INTEGER NOT NULL,
    step      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_uuid, key, timestamp, step, value)
);

-- The latest value per key (highest step, then timestamp), as MLflow keeps it.
CREATE TABLE latest_metrics (
    run_uuid  TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    value     REAL NOT NULL,
    timestamp INTEGER NOT NULL,
    step      INTEGER NOT NULL,
    PRIMARY KEY (run_uuid, key)
);

CREATE TABLE tags (
    run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (run_uuid, key)
);

CREATE TABLE registered_models (
    name              TEXT PRIMARY KEY,
    creation_time     INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL,
    description       TEXT NOT NULL DEFAULT ''
);

CREATE TABLE model_versions (
    name              TEXT NOT NULL REFERENCES registered_models(name) ON DELETE CASCADE,
    version           INTEGER NOT NULL,
    creation_time     INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL,
    source            TEXT NOT NULL,
    run_id            TEXT NOT NULL REFERENCES runs(run_uuid),
    status            TEXT NOT NULL CHECK (status IN ('PENDING_REGISTRATION','FAILED_REGISTRATION','READY')),
    description       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (name, version)
);

CREATE TABLE registered_model_aliases (
    name    TEXT NOT NULL REFERENCES registered_models(name) ON DELETE CASCADE,
    alias   TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (name, alias),
    FOREIGN KEY (name, version) REFERENCES model_versions(name, version) ON DELETE CASCADE
);

-- Lesson progress; filled by the roadmap and lessons.
CREATE TABLE lesson_progress (
    lesson_id  TEXT PRIMARY KEY,
    status     TEXT NOT NULL CHECK (status IN ('not-started','in-progress','done')),
    updated_at INTEGER NOT NULL,
    detail     TEXT NOT NULL DEFAULT '{}'
);
"#,
    // 2: deployments of registered model versions (containers or local processes).
    r#"
CREATE TABLE deployments (
    deployment_id     TEXT PRIMARY KEY,
    runtime           TEXT NOT NULL CHECK (runtime IN ('docker','local')),
    name              TEXT NOT NULL,
    model_name        TEXT NOT NULL,
    model_version     INTEGER NOT NULL,
    run_id            TEXT NOT NULL,
    endpoint          TEXT NOT NULL,
    host_port         INTEGER NOT NULL,
    image_id          TEXT,
    image_tag         TEXT,
    image_size_bytes  INTEGER,
    pid               INTEGER,
    -- local processes: the folder of their log files
    log_dir           TEXT,
    start_to_ready_ms INTEGER NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('running','stopped')),
    created_at        INTEGER NOT NULL,
    stopped_at        INTEGER
);
"#,
    // 3: monitoring. Services (a stable gateway endpoint per model), the
    // collected prediction log, late ground truth, windows, alerts, retrains.
    r#"
ALTER TABLE deployments ADD COLUMN service TEXT;
CREATE TABLE services (
    name                   TEXT PRIMARY KEY,
    model_name             TEXT NOT NULL,
    port                   INTEGER NOT NULL,
    gateway_pid            INTEGER,
    active_deployment_id   TEXT,
    active_version         INTEGER,
    previous_version       INTEGER,
    -- the catalogue dataset and scenario whose data the model was trained on
    dataset                TEXT,
    scenario               TEXT,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);
-- One row per prediction-log line; (instance, seq) makes collection idempotent.
CREATE TABLE prediction_log (
    instance       TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    deployment_id  TEXT NOT NULL,
    service        TEXT,
    kind           TEXT NOT NULL CHECK (kind IN ('prediction','error')),
    ts_ms          INTEGER NOT NULL,
    model_version  TEXT NOT NULL,
    endpoint       TEXT NOT NULL,
    status         INTEGER NOT NULL,
    latency_ms     REAL NOT NULL,
    request_id     TEXT,
    row_index      INTEGER NOT NULL DEFAULT 0,
    features       TEXT,
    prediction     TEXT,
    PRIMARY KEY (instance, seq)
);
CREATE INDEX prediction_log_service_ts ON prediction_log (service, ts_ms);
CREATE INDEX prediction_log_request ON prediction_log (request_id, row_index);
CREATE TABLE ground_truth (
    request_id   TEXT NOT NULL,
    row_index    INTEGER NOT NULL DEFAULT 0,
    label        TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    PRIMARY KEY (request_id, row_index)
);
CREATE TABLE collection_cursors (
    deployment_id  TEXT PRIMARY KEY,
    cursor         INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE TABLE metric_scrapes (
    scrape_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id  TEXT NOT NULL,
    ts_ms          INTEGER NOT NULL,
    requests_total REAL NOT NULL,
    errors_total   REAL NOT NULL,
    body           TEXT NOT NULL
);
CREATE TABLE monitor_windows (
    window_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    service        TEXT NOT NULL,
    start_ms       INTEGER NOT NULL,
    end_ms         INTEGER NOT NULL,
    versions       TEXT NOT NULL,
    requests       INTEGER NOT NULL,
    errors         INTEGER NOT NULL,
    error_rate     REAL NOT NULL,
    latency_p50    REAL,
    latency_p95    REAL,
    latency_p99    REAL,
    drift_share    REAL,
    dataset_drift  INTEGER,
    quality_metric TEXT,
    quality_value  REAL,
    labelled       INTEGER NOT NULL DEFAULT 0,
    detail         TEXT NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (service, start_ms, end_ms)
);
CREATE TABLE alert_rules (
    service    TEXT NOT NULL,
    metric     TEXT NOT NULL,
    threshold  REAL NOT NULL,
    retrain    INTEGER NOT NULL,
    PRIMARY KEY (service, metric)
);
CREATE TABLE alerts (
    alert_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    service    TEXT NOT NULL,
    window_id  INTEGER NOT NULL REFERENCES monitor_windows (window_id) ON DELETE CASCADE,
    metric     TEXT NOT NULL,
    value      REAL NOT NULL,
    threshold  REAL NOT NULL,
    message    TEXT NOT NULL,
    evidence   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (window_id, metric)
);
CREATE TABLE retrains (
    retrain_id         TEXT PRIMARY KEY,
    service            TEXT NOT NULL,
    reason             TEXT NOT NULL,
    champion_version   INTEGER,
    challenger_run_id  TEXT,
    challenger_version INTEGER,
    metric             TEXT,
    champion_score     REAL,
    challenger_score   REAL,
    promoted           INTEGER NOT NULL,
    detail             TEXT NOT NULL,
    created_at         INTEGER NOT NULL
);
"#,
    // 4: the learner's latest action of each kind (e.g. the dataset last
    // profiled), for the app's pipeline strip.
    r#"
CREATE TABLE activity (
    kind       TEXT PRIMARY KEY,
    subject    TEXT NOT NULL,
    detail     TEXT NOT NULL,
    at         INTEGER NOT NULL
);
"#,
    // 5: what identifies a process the lab started (a local server, a
    // gateway), checked before any signal so a reused PID is never hit, and
    // the per-spawn token of a gateway's admin API.
    r#"
ALTER TABLE deployments ADD COLUMN pid_start INTEGER;
ALTER TABLE deployments ADD COLUMN pid_exe TEXT;
-- where a gateway forwards to when not the endpoint (a container's bridge address)
ALTER TABLE deployments ADD COLUMN upstream TEXT;
ALTER TABLE services ADD COLUMN gateway_start INTEGER;
ALTER TABLE services ADD COLUMN gateway_exe TEXT;
ALTER TABLE services ADD COLUMN gateway_token TEXT;
"#,
    // 6: what MLflow's client reads and writes beyond the lab's own
    // pipeline (served by the tracking server): experiment, model and
    // version tags, run users and deletion, MLflow 3 logged models, dataset
    // inputs, and where a model version came from.
    r#"
CREATE TABLE experiment_tags (
    experiment_id TEXT NOT NULL REFERENCES experiments(experiment_id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (experiment_id, key)
);
ALTER TABLE runs ADD COLUMN user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN deleted_time INTEGER;
CREATE TABLE registered_model_tags (
    name  TEXT NOT NULL REFERENCES registered_models(name) ON DELETE CASCADE,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (name, key)
);
CREATE TABLE model_version_tags (
    name    TEXT NOT NULL,
    version INTEGER NOT NULL,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (name, version, key),
    FOREIGN KEY (name, version) REFERENCES model_versions(name, version) ON DELETE CASCADE
);
-- 'lab': a model.json envelope that lab-serve serves; 'mlflow': logged by
-- MLflow's client (e.g. a pickled scikit-learn model), which it cannot.
ALTER TABLE model_versions ADD COLUMN origin TEXT NOT NULL DEFAULT 'lab';
ALTER TABLE model_versions ADD COLUMN model_id TEXT;
ALTER TABLE model_versions ADD COLUMN run_link TEXT NOT NULL DEFAULT '';
CREATE TABLE logged_models (
    model_id          TEXT PRIMARY KEY,
    experiment_id     TEXT NOT NULL REFERENCES experiments(experiment_id),
    name              TEXT NOT NULL,
    -- relative to the lab home
    artifact_location TEXT NOT NULL,
    creation_time     INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('LOGGED_MODEL_PENDING','LOGGED_MODEL_READY','LOGGED_MODEL_UPLOAD_FAILED')),
    status_message    TEXT NOT NULL DEFAULT '',
    lifecycle_stage   TEXT NOT NULL DEFAULT 'active',
    model_type        TEXT NOT NULL DEFAULT '',
    source_run_id     TEXT,
    user_id           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX logged_models_by_experiment ON logged_models(experiment_id, creation_time);
CREATE TABLE logged_model_tags (
    model_id TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
);
CREATE TABLE logged_model_params (
    model_id TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
);
-- Metrics logged against a model (MLflow 3), latest per key and dataset.
CREATE TABLE logged_model_metrics (
    model_id       TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
    key            TEXT NOT NULL,
    value          REAL NOT NULL,
    timestamp      INTEGER NOT NULL,
    step           INTEGER NOT NULL,
    run_id         TEXT,
    dataset_name   TEXT NOT NULL DEFAULT '',
    dataset_digest TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (model_id, key, dataset_name, dataset_digest)
);
-- Datasets a run used, as MLflow's dataset inputs record them.
CREATE TABLE datasets (
    dataset_uuid  TEXT PRIMARY KEY,
    experiment_id TEXT NOT NULL REFERENCES experiments(experiment_id),
    name          TEXT NOT NULL,
    digest        TEXT NOT NULL,
    source_type   TEXT NOT NULL,
    source        TEXT NOT NULL,
    schema        TEXT NOT NULL DEFAULT '',
    profile       TEXT NOT NULL DEFAULT '',
    UNIQUE (experiment_id, name, digest)
);
CREATE TABLE run_inputs (
    run_uuid     TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
    dataset_uuid TEXT NOT NULL REFERENCES datasets(dataset_uuid),
    -- JSON object of the input's tags (e.g. mlflow.data.context = train)
    tags         TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_uuid, dataset_uuid)
);
-- Models a run logged (output) or used (input), MLflow 3.
CREATE TABLE run_models (
    run_uuid  TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
    model_id  TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('input','output')),
    step      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_uuid, model_id, direction)
);
"#,
    // 7: version numbers are never reused, as in MLflow: a deleted latest
    // version's number stays taken (services and retrains name versions).
    r#"
ALTER TABLE registered_models ADD COLUMN last_version INTEGER NOT NULL DEFAULT 0;
UPDATE registered_models SET last_version =
    (SELECT COALESCE(MAX(version), 0) FROM model_versions v WHERE v.name = registered_models.name);
"#,
    // 8: the course: one row per lesson the learner started, and every
    // event of it (steps run, checkpoint attempts with their per-predicate
    // results and evidence, hints, quiz answers, skips), in order.
    r#"
CREATE TABLE lessons (
    lesson_id   TEXT PRIMARY KEY,
    status      TEXT NOT NULL CHECK (status IN ('in-progress','passed','skipped')),
    started_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE TABLE lesson_events (
    event_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    lesson_id  TEXT NOT NULL REFERENCES lessons(lesson_id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('started','step','check','hint','quiz','skipped','passed')),
    at         INTEGER NOT NULL,
    detail     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX lesson_events_by_lesson ON lesson_events(lesson_id, event_id);
INSERT INTO lessons (lesson_id, status, started_at, updated_at, finished_at)
    SELECT lesson_id, CASE status WHEN 'done' THEN 'passed' ELSE 'in-progress' END,
           updated_at, updated_at, CASE status WHEN 'done' THEN updated_at END
    FROM lesson_progress WHERE status != 'not-started';
DROP TABLE lesson_progress;
"#,
    // 9: exercises in the learner's own Python: every check of one, with
    // its per-check results (what ran, expected, got).
    r#"
CREATE TABLE exercise_attempts (
    attempt_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    exercise_id TEXT NOT NULL,
    at          INTEGER NOT NULL,
    millis      INTEGER NOT NULL,
    passed      INTEGER NOT NULL CHECK (passed IN (0, 1)),
    detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX exercise_attempts_by_exercise ON exercise_attempts(exercise_id, attempt_id);
"#,
];

pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let known = MIGRATIONS.len() as i64;
    // IMMEDIATE takes the write lock first, so two processes opening a new
    // lab at once cannot both apply the same migration.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > known {
        return Err(StoreError::SchemaTooNew {
            found: current,
            known,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i as i64 + 1;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tracing::info!(version, "applied schema migration");
    }
    tx.commit()?;
    Ok(())
}
