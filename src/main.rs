//! The `xiezuo` binary: parses arguments and maps errors to exit codes (2 = bad input).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = xiezuo::cli::Cli::parse();
    match xiezuo::cli::execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = e.exit_code();
            let err = anyhow::Error::new(e);
            eprintln!("error: {err:#}");
            ExitCode::from(code)
        }
    }
}
