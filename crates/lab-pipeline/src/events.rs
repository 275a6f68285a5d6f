use serde::{Deserialize, Serialize};

/// The pipeline's stages, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Data,
    Train,
    Validate,
    Package,
    Deploy,
    Monitor,
    Retrain,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::Data,
        Stage::Train,
        Stage::Validate,
        Stage::Package,
        Stage::Deploy,
        Stage::Monitor,
        Stage::Retrain,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Data => "data",
            Stage::Train => "train",
            Stage::Validate => "validate",
            Stage::Package => "package",
            Stage::Deploy => "deploy",
            Stage::Monitor => "monitor",
            Stage::Retrain => "retrain",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// A progress event, as a front end receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    StageStarted {
        stage: Stage,
        message: String,
    },
    /// `fraction` in 0..=1 where known.
    StageProgress {
        stage: Stage,
        fraction: Option<f64>,
        message: String,
    },
    StageFinished {
        stage: Stage,
        message: String,
        millis: u64,
    },
    StageFailed {
        stage: Stage,
        message: String,
    },
}

/// Runs `f` as `stage`, reporting start, finish (with duration) or failure.
pub(crate) fn stage<T, E: std::fmt::Display>(
    sink: &dyn Fn(Event),
    stage: Stage,
    message: impl Into<String>,
    f: impl FnOnce() -> Result<(T, String), E>,
) -> Result<T, E> {
    let _span = tracing::info_span!("stage", stage = stage.as_str()).entered();
    sink(Event::StageStarted {
        stage,
        message: message.into(),
    });
    let t0 = std::time::Instant::now();
    match f() {
        Ok((v, done)) => {
            tracing::info!(millis = t0.elapsed().as_millis() as u64, "{done}");
            sink(Event::StageFinished {
                stage,
                message: done,
                millis: t0.elapsed().as_millis() as u64,
            });
            Ok(v)
        }
        Err(e) => {
            tracing::debug!("{e}");
            sink(Event::StageFailed {
                stage,
                message: e.to_string(),
            });
            Err(e)
        }
    }
}
