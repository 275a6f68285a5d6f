//! The app's commands, one file per domain. Each translates its arguments,
//! calls `lab-pipeline` through [`crate::state`] and returns a typed result
//! (charts drawn by `crate::views`) or a `{code, message}` error.

pub mod app;
pub mod data;
pub mod deployments;
pub mod exercises;
pub mod lessons;
pub mod models;
pub mod monitoring;
pub mod pipeline;
pub mod runs;
