//! Stage progress on stderr while a long command runs.

use std::cell::RefCell;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use lab_pipeline::Event;

/// Runs `f` with a sink that shows its stage events as progress on stderr,
/// and clears the progress when `f` returns, whatever it returns.
pub fn with_progress<T>(json: bool, f: impl FnOnce(&dyn Fn(Event)) -> T) -> T {
    let progress = StageProgress::new(json);
    let result = f(&|e| progress.on(e));
    progress.finish();
    result
}

/// One spinner per stage on stderr, and a line per finished stage; silent
/// with --json or when stderr is not a terminal (scripts see only results
/// and, on failure, the one error line).
struct StageProgress {
    enabled: bool,
    bar: RefCell<Option<ProgressBar>>,
}

impl StageProgress {
    fn new(json: bool) -> Self {
        StageProgress {
            enabled: !json && std::io::IsTerminal::is_terminal(&std::io::stderr()),
            bar: RefCell::new(None),
        }
    }

    fn on(&self, e: Event) {
        if !self.enabled {
            return;
        }
        match e {
            Event::StageStarted { stage, message } => {
                let pb = ProgressBar::new_spinner();
                pb.set_style(
                    ProgressStyle::with_template("{spinner} {prefix:>9} {msg} [{elapsed}]")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                pb.set_prefix(stage.to_string());
                pb.set_message(message);
                pb.enable_steady_tick(Duration::from_millis(100));
                *self.bar.borrow_mut() = Some(pb);
            }
            Event::StageProgress {
                message, fraction, ..
            } => {
                if let Some(pb) = &*self.bar.borrow() {
                    if let Some(f) = fraction {
                        show_fraction(pb, f);
                    }
                    pb.set_message(message);
                }
            }
            Event::StageFinished {
                stage,
                message,
                millis,
            } => {
                self.finish();
                eprintln!("✔ {stage:>9} {message} ({millis} ms)");
            }
            Event::StageFailed { .. } => {
                // The error itself is printed once, by main.
                self.finish();
            }
        }
    }

    fn finish(&self) {
        if let Some(pb) = self.bar.borrow_mut().take() {
            pb.finish_and_clear();
        }
    }
}

/// Known progress: the spinner becomes a bar.
fn show_fraction(pb: &ProgressBar, f: f64) {
    if pb.length().is_none() {
        pb.set_length(1000);
        pb.set_style(
            ProgressStyle::with_template("{prefix:>9} [{bar:30}] {percent:>3}% {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
    }
    pb.set_position((f.clamp(0.0, 1.0) * 1000.0) as u64);
}
