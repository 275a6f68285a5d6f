//! `mlops-lab step NAME`: one task of an exported Kubeflow pipeline. Runs in
//! the steps image with no lab home of its own; prints one line for the
//! task's log (or its outputs as JSON).

use std::process::ExitCode;

use anyhow::Result;
use lab_pipeline::steps::{self, DataStep, PackageStep, RegisterStep, TrainStep, ValidateStep};

use super::Ctx;
use crate::cli::StepCommand;

pub(super) fn run(ctx: &Ctx, step: StepCommand) -> Result<ExitCode> {
    let report = match step {
        StepCommand::Data {
            dataset,
            scenario,
            out,
            rows_file,
            digest_file,
            executor_output,
        } => steps::data(&DataStep {
            dataset,
            scenario,
            out,
            rows_file,
            digest_file,
            executor_output,
        })?,
        StepCommand::Train {
            data,
            dataset,
            model,
            hyperparams,
            seed,
            test_fraction,
            lab,
            model_out,
            metrics,
            run_id_file,
            executor_output,
        } => steps::train(&TrainStep {
            data,
            dataset,
            model,
            hyperparams,
            seed,
            test_fraction,
            lab,
            model_out,
            metrics,
            run_id_file,
            executor_output,
        })?,
        StepCommand::Validate {
            lab,
            run_id,
            gate,
            report,
            passed_file,
            executor_output,
        } => steps::validate(&ValidateStep {
            lab,
            run_id,
            gate,
            report,
            passed_file,
            executor_output,
        })?,
        StepCommand::Register {
            lab,
            run_id,
            gate_passed,
            name,
            alias,
            registry,
            version_file,
            executor_output,
        } => steps::register(&RegisterStep {
            lab,
            run_id,
            gate_passed,
            name,
            alias,
            registry,
            version_file,
            executor_output,
        })?,
        StepCommand::Package {
            registry,
            name,
            alias,
            context,
            tag_file,
            executor_output,
        } => steps::package(&PackageStep {
            registry,
            name,
            alias,
            context,
            tag_file,
            executor_output,
        })?,
    };
    ctx.emit(&report)
}
