//! `noticed forget --subject VALUE`: removes every local record carrying VALUE's pseudonym and
//! queues a deletion request (the pseudonym only) that is retried until the collector confirms.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::ask::ask;
use super::output;
use crate::admin::{Op, Response};
use crate::agent::rights::forget as forget_here;
use crate::agent::setup::{data_dir, key_path, load_or_create_key};

/// Forgets `subject`, through the daemon when it runs, else on the spool directly.
///
/// # Errors
/// Neither the daemon nor the spool could do it, or the key is unreadable.
pub async fn forget(
    policy: Option<PathBuf>,
    subject: String,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let loaded = match super::load_or_exit(policy.as_deref())? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    if subject.is_empty() {
        bail!(
            "--subject is empty: give the exact value (an e-mail address, a user name) to forget"
        );
    }
    let dir = data_dir(&loaded.policy)?;
    let key_file = key_path(&loaded.policy, &dir);
    let op = Op::Forget {
        subject: subject.clone(),
    };
    let response = ask(&loaded.policy, op, |spool| {
        let key = load_or_create_key(&key_file)
            .map_err(|e| crate::spool::SpoolError::Task(e.to_string()))?;
        let host = key.pseudonym_str(&sysinfo::System::host_name().unwrap_or_default());
        Ok(Response::Forgotten {
            forgotten: forget_here(spool, &key, &host, &subject)?,
        })
    })
    .await
    .context("cannot forget the subject")?;
    let Response::Forgotten { forgotten } = response else {
        bail!("the daemon answered something else: {response:?}");
    };
    let text = if json {
        serde_json::to_string(&forgotten).expect("serializes") + "\n"
    } else {
        format!(
            "removed {} local record(s) carrying pseudonym {}\nqueued deletion request {} for the collector (pseudonym only; retried until it confirms)\n",
            forgotten.removed, forgotten.pseudonym, forgotten.request
        )
    };
    output::print(&text)?;
    Ok(ExitCode::SUCCESS)
}
