//! Cancellation of long work. A front end keeps a clone of the [`Cancel`]
//! it gave the [`Lab`](crate::Lab) and calls [`Cancel::cancel`]; the work
//! stops at its next checkpoint (between stages, between traffic requests)
//! with [`PipelineError::Cancelled`](crate::PipelineError::Cancelled),
//! leaving the store consistent: a run being trained ends as `KILLED`,
//! requests already answered stay in the log.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Ask the work holding this token to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// The flag itself, for work that polls one (the learner's code that
    /// `lab-exercises` runs): setting it cancels this token too.
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.0)
    }
}
