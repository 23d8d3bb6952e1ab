//! The local binary: every dialect on one port over the embedded store, plus admin commands.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    polyauth::local::main().await
}
