//! The lab: the catalogue and the store together, opened once and shared
//! by every operation front ends call.

use std::sync::{Arc, Mutex, PoisonError};

use lab_data::Catalog;
use lab_deploy::Deployer;
use lab_store::{LabHome, Store};

use crate::cancel::Cancel;
use crate::{PipelineError, Result};

/// Prefix of the learning-curve metrics a run logs (step = training rows).
pub const LEARNING_CURVE: &str = "learning_curve/";

/// The catalogue and the store together. Open it once per process
/// ([`Lab::open`]: migrations, the catalogue parsed, the process's lease);
/// [`Lab::connect`] gives each further thread its own handle on the same lab.
pub struct Lab {
    pub catalog: Catalog,
    pub(crate) store: Store,
    cancel: Cancel,
    /// The Docker client, shared by every handle once Docker answered.
    deployer: Arc<Mutex<Option<Arc<Deployer>>>>,
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

    /// The Docker client (with its runtime): the one made before while
    /// Docker answers, else a new one (which asks Docker again).
    pub(crate) fn deployer(&self) -> Result<Arc<Deployer>> {
        let mut slot = self.deployer.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(d) = slot.as_ref() {
            return Ok(d.clone());
        }
        let d = Arc::new(Deployer::new()?);
        if d.docker_available().is_ok() {
            *slot = Some(d.clone());
        }
        Ok(d)
    }

    /// Forget the shared Docker client (after Docker failed a call), so the
    /// next one asks Docker again.
    pub(crate) fn forget_deployer(&self) {
        *self.deployer.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Long work on this lab stops at its next checkpoint once `cancel` is
    /// cancelled.
    pub fn with_cancel(mut self, cancel: Cancel) -> Lab {
        self.cancel = cancel;
        self
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

    pub fn home(&self) -> &LabHome {
        self.store.home()
    }
}
