//! The `noticed` command line: one clap definition drives parsing and `--help`; each command
//! lives in its own module. The binary's `main` is just [`main`].

mod ask;
mod bundle;
mod collector;
mod consent;
mod dead_letters;
mod explain;
mod forget;
mod notice;
mod output;
mod policy;
mod records;
mod reload;
mod report;
mod run;
mod scrub;
mod status;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for an unusable policy (sysexits' EX_CONFIG).
pub const EXIT_CONFIG: u8 = 78;
/// Exit code when records were kept but could not be delivered yet (EX_TEMPFAIL).
pub const EXIT_TEMPFAIL: u8 = 75;

/// A telemetry agent whose privacy notice is its configuration.
#[derive(Debug, Parser)]
#[command(name = "noticed", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the agent: collect, apply the policy, spool, and ship to the collector.
    Run {
        /// Policy file [default: /etc/noticed/policy.toml, else the embedded default].
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// Collect one round from every source, send what is pending, print a summary, exit.
        #[arg(long)]
        once: bool,
    },
    /// Show the daemon's health: policy and consent, sources, spool, delivery and counters.
    Status {
        /// Policy file naming the data directory [default: as for `run`].
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// One JSON object instead of a report.
        #[arg(long)]
        json: bool,
    },
    /// Show what was collected, what waits and what was sent, newest first.
    Records {
        #[command(subcommand)]
        show: Option<RecordsCommand>,
        /// Policy file naming the data directory [default: as for `run`].
        #[arg(long, value_name = "FILE", global = true)]
        policy: Option<PathBuf>,
        /// One JSON object per line instead of a table.
        #[arg(long, global = true)]
        json: bool,
        /// Show at most this many records.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Only this category (configuration, performance, service-logs, …).
        #[arg(long)]
        category: Option<crate::record::Category>,
        /// Only this purpose (usage, service-operational).
        #[arg(long)]
        purpose: Option<crate::record::Purpose>,
        /// Only records in this delivery state.
        #[arg(long, value_enum)]
        state: Option<crate::spool::State>,
        /// Only records from this source (log_file, host_metrics, …).
        #[arg(long)]
        source: Option<String>,
        /// Only records collected in this last span of time (`2h`, `7d`).
        #[arg(long, value_parser = humantime::parse_duration)]
        since: Option<std::time::Duration>,
        /// Only records whose stored form contains this text (a pseudonym, a token).
        #[arg(long)]
        grep: Option<String>,
    },
    /// Explain a record in words: which rule kept, pseudonymised, masked or removed each field,
    /// which detectors fired where; never the removed values.
    Explain {
        /// The record's id (from `noticed records`).
        id: crate::record::RecordId,
        /// Policy file naming the data directory [default: as for `run`].
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show the batches the collector refused (kept locally, never dropped), or send them again.
    DeadLetters {
        /// Policy file naming the data directory [default: as for `run`].
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
        /// Queue dead batches to be sent again with their ids: BATCH, or all without it.
        #[arg(long, value_name = "BATCH")]
        retry: Option<Option<uuid::Uuid>>,
    },
    /// Make the running daemon re-read its policy (as SIGHUP does); a broken policy is
    /// refused with its position and the current one stays in force.
    Reload {
        /// Policy file naming the data directory [default: as for `run`].
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
    },
    /// Record the customer's consent for usage data in the policy file and reload the daemon;
    /// withdrawing purges unsent usage records at once.
    Consent {
        /// Policy file to change [default: /etc/noticed/policy.toml].
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// The purpose (only `usage` needs consent).
        #[arg(value_parser = ["usage"])]
        purpose: String,
        /// Given or withdrawn.
        #[arg(value_enum)]
        state: consent::Toggle,
    },
    /// Forget a person: remove every local record carrying VALUE's pseudonym and ask the
    /// collector to delete its copies (only the pseudonym is sent).
    Forget {
        /// Policy file naming the data directory and key [default: as for `run`].
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// The exact value to forget: an e-mail address, a user name, a host name.
        #[arg(long, value_name = "VALUE")]
        subject: String,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Scrub files (or stdin) to stdout: personal data and secrets become typed tokens.
    Scrub {
        /// Policy whose [scrub] section to use [default: as for `run`].
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// Print lines read, lines changed and hits per detector to stderr at the end.
        #[arg(long)]
        stats: bool,
        /// Files to scrub; none or `-` reads standard input.
        files: Vec<PathBuf>,
    },
    /// Build a support bundle (.tar.gz): status, configuration, the agent's journal and the
    /// files listed in [bundle], all scrubbed, with a manifest of what was redacted.
    Bundle {
        /// Policy whose [bundle] and [scrub] sections to use [default: as for `run`].
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// Where to write it [default: noticed-bundle-TIME.tar.gz here].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Render the privacy notice the policy makes: what is collected, why, what is removed,
    /// retention, consent and contact.
    Notice {
        /// Policy file [default: as for `run`].
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// Language.
        #[arg(long, value_enum, default_value = "en")]
        lang: crate::notice::Lang,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: crate::notice::Format,
    },
    /// A transparency report: records per category and purpose over a window, what the policy
    /// removed, pseudonymised or masked, what scrubbing found.
    Report {
        /// Policy file naming the data directory [default: as for `run`].
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// The window, back from now (`24h`, `7d`).
        #[arg(long, default_value = "7d", value_parser = humantime::parse_duration)]
        since: std::time::Duration,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: report::ReportFormat,
    },
    /// Print shell completions (bash, zsh, fish, elvish, powershell) to stdout.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout.
    Man,
    /// Work with policy files.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Run the reference collector: accept batches and store them as JSON lines.
    Collector {
        /// Address to listen on (port 0 picks a free port, printed at start).
        #[arg(long, default_value = "127.0.0.1:4390")]
        listen: std::net::SocketAddr,
        /// Directory for the received records.
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        /// Refuse requests larger than this once decompressed, with 413 (senders split).
        #[arg(long, value_name = "BYTES", default_value_t = crate::collector::MAX_DECODED_BYTES)]
        max_batch_bytes: u64,
        /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key (PEM) of --tls-cert.
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Require client certificates issued by this CA (PEM): mutual TLS; needs --tls-cert.
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        client_ca: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum RecordsCommand {
    /// One record as stored, and how it was (or will be) sent.
    Show {
        /// The record's id.
        id: crate::record::RecordId,
    },
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Validate a policy file: exit 0 with a summary, or name FILE:LINE:COLUMN of the fault.
    Check {
        /// The policy file.
        file: PathBuf,
    },
    /// What changes in collected data from OLD to NEW; flags material changes (more data or
    /// a new purpose) that the notice's owner must announce.
    Diff {
        /// The policy in force.
        old: PathBuf,
        /// The proposed policy.
        new: PathBuf,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Dry-run: sample records (JSON lines) or one live round through a policy, each shown
    /// before and after; nothing is stored or sent.
    Test {
        /// The policy to try.
        #[arg(long, value_name = "FILE")]
        policy: PathBuf,
        /// Sample drafts, one JSON object a line: {"category", "source", "event", "fields", "body"}.
        #[arg(long, value_name = "SAMPLE.jsonl", conflicts_with = "live")]
        input: Option<PathBuf>,
        /// Collect one round from the policy's sources instead.
        #[arg(long)]
        live: bool,
        /// JSON lines instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Parses the command line, runs the command and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let daemon_like = matches!(
        cli.command,
        Command::Run { once: false, .. } | Command::Collector { .. }
    );
    crate::logging::init(if daemon_like { "info" } else { "warn" });
    match cli.command {
        Command::Run { once: false, .. } => crate::allocator::bound_for_daemon(),
        Command::Collector { .. } => crate::allocator::keep_for_collector(),
        _ => {}
    }
    let result = match cli.command {
        Command::Policy {
            command: PolicyCommand::Check { file },
        } => policy::check(&file),
        Command::Policy {
            command: PolicyCommand::Diff { old, new, json },
        } => policy::diff(&old, &new, json),
        Command::Policy {
            command:
                PolicyCommand::Test {
                    policy,
                    input,
                    live,
                    json,
                },
        } => with_runtime(policy::test(&policy, input.as_deref(), live, json)),
        Command::Run { policy, once } => with_runtime(run::run(policy, once)),
        Command::Records {
            show: Some(RecordsCommand::Show { id }),
            policy,
            json,
            ..
        } => with_runtime(records::show(policy, id, json)),
        Command::Records {
            show: None,
            policy,
            json,
            limit,
            category,
            purpose,
            state,
            source,
            since,
            grep,
        } => {
            let filter = crate::spool::Filter {
                category,
                purpose,
                state,
                source,
                since_ms: since.and_then(crate::spool::Filter::since),
                grep,
                id: None,
            };
            with_runtime(records::records(policy, json, limit, filter))
        }
        Command::Explain { id, policy, json } => with_runtime(explain::explain(policy, id, json)),
        Command::DeadLetters {
            policy,
            json,
            retry,
        } => with_runtime(dead_letters::dead_letters(policy, json, retry)),
        Command::Notice {
            policy,
            lang,
            format,
        } => notice::notice(policy, lang, format),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "noticed", &mut out);
            output::print(&String::from_utf8_lossy(&out)).map(|()| ExitCode::SUCCESS)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut out)
                .map_err(anyhow::Error::from)
                .and_then(|()| output::print(&String::from_utf8_lossy(&out)))
                .map(|()| ExitCode::SUCCESS)
        }
        Command::Report {
            policy,
            since,
            format,
        } => with_runtime(report::report(policy, since, format)),
        Command::Status { policy, json } => with_runtime(status::status(policy, json)),
        Command::Consent { policy, state, .. } => with_runtime(consent::consent(policy, state)),
        Command::Reload { policy } => with_runtime(reload::reload(policy)),
        Command::Forget {
            policy,
            subject,
            json,
        } => with_runtime(forget::forget(policy, subject, json)),
        Command::Collector {
            listen,
            data_dir,
            max_batch_bytes,
            tls_cert,
            tls_key,
            client_ca,
        } => {
            let tls = tls_cert
                .zip(tls_key)
                .map(|(cert, key)| crate::collector::TlsFiles {
                    cert,
                    key,
                    client_ca,
                });
            with_runtime(collector::collector(listen, data_dir, max_batch_bytes, tls))
        }
        Command::Scrub {
            policy,
            stats,
            files,
        } => scrub::scrub(policy, files, stats),
        Command::Bundle { policy, out } => with_runtime(bundle::bundle(policy, out)),
    };
    match result {
        Ok(code) => code,
        Err(e) if output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("noticed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Loads the policy for a command; one that cannot be used is reported on stderr and becomes
/// the exit code [`EXIT_CONFIG`] (the `Err` side), so every command treats it alike.
fn load_or_exit(
    policy: Option<&std::path::Path>,
) -> anyhow::Result<Result<crate::agent::setup::LoadedPolicy, ExitCode>> {
    use crate::agent::setup::{SetupError, load_policy};
    match load_policy(policy) {
        Ok(l) => Ok(Ok(l)),
        Err(e @ (SetupError::Policy(_) | SetupError::ReadPolicy { .. })) => {
            eprintln!("noticed: {e}");
            Ok(Err(ExitCode::from(EXIT_CONFIG)))
        }
        Err(e) => Err(e.into()),
    }
}

fn with_runtime(
    fut: impl std::future::Future<Output = anyhow::Result<ExitCode>>,
) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .max_blocking_threads(8)
        .build()?;
    let result = runtime.block_on(fut);
    // A source stuck in a blocking call (a hung mount, a FIFO with no writer) must not keep
    // the process from exiting once everything else has stopped.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    result
}
