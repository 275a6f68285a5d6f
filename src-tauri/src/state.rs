//! The app's state and how commands reach the core: the lab, opened once
//! at start and shared (each command borrows a handle on its own thread),
//! the long work in progress by job id, and errors as the UI receives them.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use lab_pipeline::{Cancel, Event, Lab, PipelineError};
use serde::Serialize;
use tauri::ipc::Channel;

/// The lab the app works in: opened once at start (migrations, the
/// catalogue, the process's lease); commands borrow handles on it, kept for
/// reuse, so polling opens nothing new.
pub struct AppLab {
    lab: Mutex<Lab>,
    idle: Mutex<Vec<Lab>>,
}

impl AppLab {
    pub fn new(lab: Lab) -> Self {
        AppLab {
            lab: Mutex::new(lab),
            idle: Mutex::default(),
        }
    }

    fn take(&self) -> Result<Lab, UiError> {
        if let Some(l) = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
        {
            return Ok(l);
        }
        Ok(self
            .lab
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .connect()?)
    }

    fn give_back(&self, lab: Lab) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        // Enough for the views' concurrent calls; more are closed.
        if idle.len() < 8 {
            idle.push(lab.with_cancel(Cancel::default()));
        }
    }
}

/// Long work in progress, by the job id the UI gave it.
#[derive(Default)]
pub struct Jobs(Mutex<HashMap<String, Cancel>>);

impl Jobs {
    /// Ask job `job` to stop at its next checkpoint; false when none runs.
    pub fn cancel(&self, job: &str) -> bool {
        match self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(job)
        {
            Some(c) => {
                c.cancel();
                true
            }
            None => false,
        }
    }
}

/// An error as the UI receives it.
#[derive(Debug, Clone, Serialize)]
pub struct UiError {
    pub code: String,
    pub message: String,
}

impl<E: Into<PipelineError>> From<E> for UiError {
    fn from(e: E) -> Self {
        let w = e.into().to_wire();
        UiError {
            code: w.code,
            message: w.message,
        }
    }
}

pub type UiResult<T> = Result<T, UiError>;

/// Run `f` on `lab` off the UI thread, then give the handle back.
async fn on_blocking_thread<T: Send + 'static>(
    app: &tauri::State<'_, AppLab>,
    lab: Lab,
    f: impl FnOnce(&Lab) -> Result<T, UiError> + Send + 'static,
) -> UiResult<T> {
    let (lab, r) = tauri::async_runtime::spawn_blocking(move || {
        let r = f(&lab);
        (lab, r)
    })
    .await
    .map_err(|e| UiError {
        code: "app.task".into(),
        message: format!("the background task failed: {e}"),
    })?;
    app.give_back(lab);
    r
}

/// Run `f` on a handle of the app's lab, off the UI thread.
pub async fn with_lab<T: Send + 'static>(
    app: &tauri::State<'_, AppLab>,
    f: impl FnOnce(&Lab) -> Result<T, UiError> + Send + 'static,
) -> UiResult<T> {
    let lab = app.take()?;
    on_blocking_thread(app, lab, f).await
}

/// Like [`with_lab`], for long work registered as `job` (cancellable).
pub async fn with_job<T: Send + 'static>(
    app: &tauri::State<'_, AppLab>,
    jobs: &Jobs,
    job: String,
    f: impl FnOnce(&Lab) -> Result<T, UiError> + Send + 'static,
) -> UiResult<T> {
    let cancel = Cancel::new();
    // The handle first: a lab that cannot be reached leaves no job behind.
    let lab = app.take()?.with_cancel(cancel.clone());
    {
        let mut jobs = jobs.0.lock().unwrap_or_else(PoisonError::into_inner);
        if jobs.contains_key(&job) {
            drop(jobs);
            app.give_back(lab);
            return Err(UiError {
                code: "app.busy".into(),
                message: format!("`{job}` is already running: wait for it or cancel it"),
            });
        }
        jobs.insert(job.clone(), cancel);
    }
    let r = on_blocking_thread(app, lab, f).await;
    jobs.0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&job);
    r
}

/// Events of long work, sent to the UI's channel.
pub fn sink(ch: &Channel<Event>) -> impl Fn(Event) + '_ {
    move |e| {
        let _ = ch.send(e);
    }
}

/// The MLflow tracking server the app runs over its lab, for the learner's
/// own MLflow client: on MLflow's usual port 5000 when it is free, else on
/// any free port. It stops with the app.
pub struct Tracking {
    server: Mutex<Option<lab_pipeline::TrackingServer>>,
    info: TrackingInfo,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TrackingInfo {
    /// What `MLFLOW_TRACKING_URI` should be, when the server runs.
    pub uri: Option<String>,
    /// Why it does not run.
    pub error: Option<String>,
    pub mlflow_version: &'static str,
}

impl Tracking {
    pub fn start(lab: &Lab) -> Tracking {
        let started = lab.tracking_server_on_or_any(lab_pipeline::TRACKING_DEFAULT_PORT);
        let (server, info) = match started {
            Ok(s) => {
                let uri = s.uri();
                (
                    Some(s),
                    TrackingInfo {
                        uri: Some(uri),
                        error: None,
                        mlflow_version: lab_pipeline::MLFLOW_API_VERSION,
                    },
                )
            }
            Err(e) => {
                tracing::warn!(error = %e, "the MLflow tracking server did not start");
                (
                    None,
                    TrackingInfo {
                        uri: None,
                        error: Some(e.to_string()),
                        mlflow_version: lab_pipeline::MLFLOW_API_VERSION,
                    },
                )
            }
        };
        Tracking {
            server: Mutex::new(server),
            info,
        }
    }

    pub fn info(&self) -> TrackingInfo {
        self.info.clone()
    }
}

impl Drop for Tracking {
    fn drop(&mut self) {
        if let Some(s) = self.server.lock().unwrap_or_else(|p| p.into_inner()).take() {
            s.stop();
        }
    }
}
