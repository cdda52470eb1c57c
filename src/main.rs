//! The `xiezuo` binary: parses arguments and maps errors to exit codes (2 = bad input).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // A closed pipe (`xiezuo scenarios show NAME | head`) ends the process quietly, as for
    // any Unix tool, rather than making `println!` panic.
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to its default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = xiezuo::cli::Cli::parse();
    match xiezuo::cli::execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = e.exit_code();
            let err = anyhow::Error::new(e);
            // Each layer's message already names its cause; print a cause of the chain only
            // when its text is not in the message yet, so nothing is said twice.
            let mut msg = String::new();
            for cause in err.chain() {
                let t = cause.to_string();
                if !msg.contains(&t) {
                    if !msg.is_empty() {
                        msg.push_str(": ");
                    }
                    msg.push_str(&t);
                }
            }
            eprintln!("error: {msg}");
            ExitCode::from(code)
        }
    }
}
