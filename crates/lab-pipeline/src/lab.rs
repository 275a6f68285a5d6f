//! The lab: the catalogue and the store together, opened once and shared
//! by every operation front ends call.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use lab_data::Catalog;
use lab_deploy::Deployer;
use lab_store::{LabHome, Store};

use crate::cancel::Cancel;
use crate::{PipelineError, Result};

/// The shared Docker client and when Docker last answered it.
type DockerAnswer = (Arc<Deployer>, Instant);

/// How long Docker's last answer is trusted before it is asked again.
const DOCKER_RECHECK: Duration = Duration::from_secs(5);

/// Prefix of the learning-curve metrics a run logs (step = training rows).
pub const LEARNING_CURVE: &str = "learning_curve/";

/// The catalogue and the store together. Open it once per process
/// ([`Lab::open`]: migrations, the catalogue parsed, the process's lease);
/// [`Lab::connect`] gives each further thread its own handle on the same lab.
pub struct Lab {
    pub catalog: Catalog,
    pub(crate) store: Store,
    cancel: Cancel,
    /// The Docker client, shared by every handle, and when Docker last
    /// answered it (yes or no).
    deployer: Arc<Mutex<Option<DockerAnswer>>>,
}

impl Lab {
    /// Open the lab in `MLOPS_LAB_HOME` (or the platform data dir) with the
    /// shipped catalogue.
    pub fn open_default() -> Result<Lab> {
        let home = LabHome::from_env()?;
        Self::open(&home, Catalog::load_default()?)
    }

    /// Open an existing lab home only (`root`, else `MLOPS_LAB_HOME` or the
    /// platform data dir), with the shipped catalogue: never creates a home
    /// nor adopts a folder that is not one. What `reset` opens.
    pub fn open_existing(root: Option<&std::path::Path>) -> Result<Lab> {
        let root = match root {
            Some(r) => r.to_path_buf(),
            None => LabHome::default_root()?,
        };
        Self::open(&LabHome::existing(root)?, Catalog::load_default()?)
    }

    pub fn open(home: &LabHome, catalog: Catalog) -> Result<Lab> {
        Ok(Lab {
            catalog,
            store: Store::open(home)?,
            cancel: Cancel::default(),
            deployer: Arc::default(),
        })
    }

    /// Another handle on this lab for another thread: a new connection to
    /// the same store (no migrations, no new lease), the same catalogue and
    /// Docker client, and a cancel token of its own.
    pub fn connect(&self) -> Result<Lab> {
        Ok(Lab {
            catalog: self.catalog.clone(),
            store: self.store.connect()?,
            cancel: Cancel::default(),
            deployer: self.deployer.clone(),
        })
    }

    /// Serve MLflow's tracking and registry REST API over this lab's store
    /// on `127.0.0.1:port` (0: any free port), in the background; with
    /// `until_signal`, it also stops on Ctrl-C or SIGTERM.
    pub fn tracking_server(
        &self,
        port: u16,
        until_signal: bool,
    ) -> Result<lab_tracking::TrackingServer> {
        let store = self.store.connect()?;
        Ok(if until_signal {
            lab_tracking::TrackingServer::start_until_signal(store, port)?
        } else {
            lab_tracking::TrackingServer::start(store, port)?
        })
    }

    /// The tracking server on `port` when it is free, else on any free
    /// port (for the app, which must not fail to start over a busy port).
    pub fn tracking_server_on_or_any(&self, port: u16) -> Result<lab_tracking::TrackingServer> {
        self.tracking_server(port, false)
            .or_else(|_| self.tracking_server(0, false))
    }

    /// The Docker client (with its async runtime), made once and shared.
    /// Docker is asked again when its last answer is older than
    /// [`DOCKER_RECHECK`] (a ping on the same connection, or a new client
    /// when it had not answered), so polling does not ask on every call, a
    /// Docker that stopped is noticed within that time (deploys then fall
    /// back to a local process), and one that started is found too.
    pub(crate) fn deployer(&self) -> Result<Arc<Deployer>> {
        let cached = self
            .deployer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        // Asked outside the lock: a hung daemon must not block other handles.
        if let Some((d, at)) = cached {
            if at.elapsed() < DOCKER_RECHECK {
                return Ok(d);
            }
            if d.docker_available().is_ok() && d.still_answers() {
                self.remember(&d);
                return Ok(d);
            }
        }
        // A new client: Docker's answer (yes or no) is kept as long.
        let d = Arc::new(Deployer::new()?);
        self.remember(&d);
        Ok(d)
    }

    fn remember(&self, d: &Arc<Deployer>) {
        *self.deployer.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((d.clone(), Instant::now()));
    }

    /// Long work on this lab stops at its next checkpoint once `cancel` is
    /// cancelled.
    pub fn with_cancel(mut self, cancel: Cancel) -> Lab {
        self.cancel = cancel;
        self
    }

    /// This lab's cancel token (what a front end's Cancel sets).
    pub fn cancel(&self) -> &Cancel {
        &self.cancel
    }

    pub(crate) fn cancel_token(&self) -> &Cancel {
        &self.cancel
    }

    /// A checkpoint: `Err(Cancelled)` once the caller cancelled, saying what
    /// was about to start.
    pub(crate) fn checkpoint(&self, next: &str) -> Result<()> {
        if self.cancel.is_cancelled() {
            return Err(PipelineError::Cancelled(format!("stopped before {next}")));
        }
        Ok(())
    }

    /// The shipped datasets and their scenarios.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn home(&self) -> &LabHome {
        self.store.home()
    }
}
