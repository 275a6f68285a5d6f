//! `tracking-server`: MLflow's REST API over this lab, in the foreground.

use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;

pub(super) fn serve(ctx: &Ctx, port: u16) -> Result<ExitCode> {
    let lab = ctx.lab()?;
    let server = lab.tracking_server(port, true)?;
    let uri = server.uri();
    if ctx.json {
        println!("{}", serde_json::json!({ "tracking_uri": uri }));
    } else {
        println!(
            "MLflow tracking server (MLflow {} REST API) on {uri}",
            lab_pipeline::MLFLOW_API_VERSION
        );
        println!("  lab home: {}", lab.home().root().display());
        println!("  point MLflow's client at it:  export MLFLOW_TRACKING_URI={uri}");
        println!("  loopback only; Ctrl-C stops it.");
    }
    server.wait();
    Ok(ExitCode::SUCCESS)
}
