//! `mlops-lab`: the command line. Parsing and printing only; every operation
//! is a call into `lab-pipeline`.
//!
//! `cli`: the arguments (clap); `commands`: what each command does;
//! `print`: its output, JSON or tables, and stage progress.

mod cli;
mod commands;
mod print;

use std::process::ExitCode;

use clap::Parser;
use clap::error::{ContextKind, ContextValue, ErrorKind};

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    // `mlops-lab ... | head` closes stdout early: end quietly, as Unix tools do.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default_hook(info);
    }));
    init_tracing(cli.verbose);
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Our errors carry their own detail; one line, no repeated causes.
            let msg = e.to_string().replace('\n', " ");
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// Help and version go to stdout (exit 0); anything else clap refused is
/// one line on stderr: exit 2, or 1 for a value outside a fixed set.
fn usage_error(e: &clap::Error) -> ExitCode {
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return if e.use_stderr() {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        };
    }
    // clap's first line says what is wrong; keep it to one line.
    let rendered = e.render().to_string();
    let head = rendered.split("\n\n").next().unwrap_or("invalid arguments");
    let head = head.split_whitespace().collect::<Vec<_>>().join(" ");
    let head = head.strip_prefix("error: ").unwrap_or(&head);
    eprintln!("error: {head} (see mlops-lab --help)");
    if unknown_choice(e) {
        ExitCode::FAILURE
    } else {
        ExitCode::from(2)
    }
}

/// A value given but not one of the choices of a fixed-set flag (`--status`,
/// `--scenario` of traffic, `--missing`, `--task`). The commands refused
/// these themselves before the flags were value enums, with exit 1, and
/// scripts may rely on it.
fn unknown_choice(e: &clap::Error) -> bool {
    let given = matches!(
        e.get(ContextKind::InvalidValue),
        Some(ContextValue::String(v)) if !v.is_empty()
    );
    e.kind() == ErrorKind::InvalidValue && given && e.get(ContextKind::ValidValue).is_some()
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MLOPS_LAB_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
