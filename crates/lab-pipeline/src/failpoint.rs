//! Test-only fault injection. `MLOPS_LAB_FAILPOINTS="train.fit=sleep(5000)"`
//! makes the named point sleep that many milliseconds, so a test can kill the
//! process at a known moment (mid-run) and check what the next process sees.
//! Unset, a failpoint costs one environment lookup.

pub(crate) const ENV: &str = "MLOPS_LAB_FAILPOINTS";

pub(crate) fn hit(name: &str) {
    let Ok(spec) = std::env::var(ENV) else { return };
    for item in spec.split(';') {
        let Some((point, action)) = item.split_once('=') else {
            continue;
        };
        if point.trim() != name {
            continue;
        }
        if let Some(ms) = action
            .trim()
            .strip_prefix("sleep(")
            .and_then(|r| r.strip_suffix(')'))
            .and_then(|n| n.parse::<u64>().ok())
        {
            tracing::warn!(failpoint = name, ms, "failpoint: sleeping");
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
    }
}
