//! Everything the agent needs from the host before it starts: the policy file, the data
//! directory, and the pseudonym key. Errors say which file and what to do.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::policy::{
    EMBEDDED_NAME, Interval, KEY_LEN, Policy, PolicyError, PseudonymKey, PurposeRetention,
    RetentionSection,
};
use crate::record::Purpose;
use crate::spool::Limits;

/// Where an installed agent keeps its state.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/noticed";

/// Where an installed agent's policy lives.
pub const DEFAULT_POLICY_PATH: &str = "/etc/noticed/policy.toml";

/// Why the agent cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The policy file cannot be read.
    #[error("cannot read policy {path}: {source}")]
    ReadPolicy {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The policy is invalid.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The key file cannot be read or created.
    #[error("pseudonym key {path}: {message}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// No home or state directory to put data in.
    #[error("no data directory: set agent.data_dir in the policy, or HOME or XDG_STATE_HOME")]
    NoDataDir,
}

/// A loaded policy and where it came from.
#[derive(Clone, Debug)]
pub struct LoadedPolicy {
    /// The policy.
    pub policy: Policy,
    /// The file it came from, or `<embedded default policy>`.
    pub origin: String,
}

/// Loads `--policy FILE`, else the installed default, else the embedded default.
///
/// # Errors
/// [`SetupError`] for an unreadable or invalid file.
pub fn load_policy(explicit: Option<&Path>) -> Result<LoadedPolicy, SetupError> {
    let path = match explicit {
        Some(p) => p.to_owned(),
        None if Path::new(DEFAULT_POLICY_PATH).exists() => PathBuf::from(DEFAULT_POLICY_PATH),
        None => {
            return Ok(LoadedPolicy {
                policy: Policy::embedded_default(),
                origin: EMBEDDED_NAME.to_owned(),
            });
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|source| SetupError::ReadPolicy {
        path: path.clone(),
        source,
    })?;
    let origin = path.display().to_string();
    Ok(LoadedPolicy {
        policy: Policy::parse(&text, &origin)?,
        origin,
    })
}

/// The data directory: `agent.data_dir`, else systemd's `$STATE_DIRECTORY`, else
/// /var/lib/noticed for root, else `$XDG_STATE_HOME/noticed` or `~/.local/state/noticed`.
///
/// # Errors
/// [`SetupError::NoDataDir`] when none can be found.
pub fn data_dir(policy: &Policy) -> Result<PathBuf, SetupError> {
    if let Some(d) = &policy.file.agent.data_dir {
        return Ok(d.clone());
    }
    let non_empty = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    // systemd's StateDirectory= (the packaged service runs as the `noticed` user).
    if let Some(state) = non_empty("STATE_DIRECTORY") {
        return Ok(state);
    }
    if rustix::process::geteuid().is_root() {
        return Ok(PathBuf::from(DEFAULT_DATA_DIR));
    }
    if let Some(state) = non_empty("XDG_STATE_HOME") {
        return Ok(state.join("noticed"));
    }
    non_empty("HOME")
        .map(|h| h.join(".local/state/noticed"))
        .ok_or(SetupError::NoDataDir)
}

/// The key file: `agent.key_file`, else `pseudonym.key` in the data directory.
pub fn key_path(policy: &Policy, data_dir: &Path) -> PathBuf {
    policy
        .file
        .agent
        .key_file
        .clone()
        .unwrap_or_else(|| data_dir.join("pseudonym.key"))
}

/// Reads the pseudonym key, creating a random one (mode 0600) if the file does not exist.
/// A key readable by group or others is refused: it may have leaked.
///
/// # Errors
/// [`SetupError::Key`] saying what is wrong with the file.
pub fn load_or_create_key(path: &Path) -> Result<PseudonymKey, SetupError> {
    let fail = |message: String| SetupError::Key {
        path: path.to_owned(),
        message,
    };
    match std::fs::metadata(path) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(fail(format!(
                    "is readable by others (mode {mode:o}); run `chmod 600 {}`, and replace the key if others may have read it",
                    path.display()
                )));
            }
            let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read: {e}")))?;
            let key: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| {
                fail(format!(
                    "holds {} bytes, not {KEY_LEN}; move it away to have a new key made",
                    bytes.len()
                ))
            })?;
            Ok(PseudonymKey::from_bytes(&key))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                crate::spool::create_private_dir(parent)
                    .map_err(|e| fail(format!("cannot create its directory: {e}")))?;
            }
            let mut key = [0u8; KEY_LEN];
            getrandom::fill(&mut key).map_err(|e| fail(format!("no randomness: {e}")))?;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| fail(format!("cannot create: {e}")))?;
            f.write_all(&key)
                .and_then(|()| f.sync_all())
                .map_err(|e| fail(format!("cannot write: {e}")))?;
            Ok(PseudonymKey::from_bytes(&key))
        }
        Err(e) => Err(fail(format!("cannot read: {e}"))),
    }
}

/// Where the admin API listens: `agent.admin_socket`; else, for an agent on the default data
/// directory, the runtime directory (`/run/noticed` for root, `$XDG_RUNTIME_DIR/noticed`
/// otherwise); else `data_dir/admin.sock`, so agents with their own data directory never share
/// a socket.
pub fn admin_socket(policy: &Policy, data_dir: &Path) -> PathBuf {
    if let Some(p) = &policy.file.agent.admin_socket {
        return p.clone();
    }
    if policy.file.agent.data_dir.is_none() {
        // systemd's RuntimeDirectory=, then the installed default for root.
        if let Some(run) = std::env::var_os("RUNTIME_DIRECTORY").filter(|v| !v.is_empty()) {
            return PathBuf::from(run).join("admin.sock");
        }
        if rustix::process::geteuid().is_root() || data_dir == Path::new(DEFAULT_DATA_DIR) {
            return PathBuf::from("/run/noticed/admin.sock");
        }
        if let Some(run) = std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
            return PathBuf::from(run).join("noticed").join("admin.sock");
        }
    }
    data_dir.join(crate::agent::ADMIN_SOCKET)
}

/// The limits the spool enforces for a policy's `[retention]`.
pub fn limits(retention: &RetentionSection) -> Limits {
    let per = |base: &Interval, pick: fn(&PurposeRetention) -> Option<&Interval>| {
        let mut out = [base.0; 2];
        for (i, p) in Purpose::ALL.iter().enumerate() {
            if let Some(v) = retention.purpose.get(p).and_then(pick) {
                out[i] = v.0;
            }
        }
        out
    };
    Limits {
        max_bytes: retention.spool_max_bytes,
        pending_max_age: per(&retention.pending_max_age, |p| p.pending_max_age.as_ref()),
        history: per(&retention.history, |p| p.history.as_ref()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_private_once_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k/pseudonym.key");
        let a = load_or_create_key(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let b = load_or_create_key(&path).unwrap();
        assert_eq!(a.pseudonym_str("x"), b.pseudonym_str("x"));
    }

    #[test]
    fn an_exposed_or_short_key_is_refused_with_advice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pseudonym.key");
        std::fs::write(&path, [0u8; KEY_LEN]).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_or_create_key(&path).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        std::fs::write(&path, [0u8; 5]).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let err = load_or_create_key(&path).unwrap_err().to_string();
        assert!(err.contains("holds 5 bytes"), "{err}");
    }

    #[test]
    fn an_explicit_data_dir_wins() {
        let mut p = Policy::embedded_default();
        p.file.agent.data_dir = Some("/x/y".into());
        assert_eq!(data_dir(&p).unwrap(), PathBuf::from("/x/y"));
        assert_eq!(
            key_path(&p, Path::new("/x/y")),
            PathBuf::from("/x/y/pseudonym.key")
        );
    }

    #[test]
    fn a_broken_policy_file_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "[notice]\ntitle = 1\n").unwrap();
        let err = load_policy(Some(&path)).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}:2:9: ", path.display())),
            "{err}"
        );
        let err = load_policy(Some(&dir.path().join("missing.toml")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot read policy"), "{err}");
    }
}
