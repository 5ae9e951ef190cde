//! The `switchboard` binary: a thin shell over the library.

use clap::Parser;

/// mimalloc instead of glibc malloc: the ingest path allocates per row and
/// per statement on several threads (BENCHMARKS.md, session 5).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = switchboard::cli::Cli::parse();
    let result = actix_web::rt::System::new().block_on(switchboard::cli::run(cli));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchboard: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
