//! The `noticed` binary: all logic lives in the library; see `noticed --help`.

fn main() -> std::process::ExitCode {
    noticed::cli::main()
}
