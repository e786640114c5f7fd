//! Log output: pretty for people, JSON for collectors; `RUST_LOG` filters.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use super::settings::LogFormat;

/// Installs the global subscriber once, writing to standard output. Later calls do
/// nothing.
pub fn init(format: LogFormat) {
    install(format, false);
}

/// As [`init`], writing to standard error: for commands whose standard output is their
/// answer (`otp-server import` prints its summary there).
pub fn init_on_stderr(format: LogFormat) {
    install(format, true);
}

fn install(format: LogFormat, on_stderr: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn,actix_web=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_span_events(FmtSpan::NONE);
    let _ = match (format, on_stderr) {
        (LogFormat::Json, false) => builder.json().with_current_span(true).try_init(),
        (LogFormat::Pretty, false) => builder.compact().try_init(),
        (LogFormat::Json, true) => {
            builder.with_writer(std::io::stderr).json().with_current_span(true).try_init()
        }
        (LogFormat::Pretty, true) => builder.with_writer(std::io::stderr).compact().try_init(),
    };
}
