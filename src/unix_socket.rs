//! Binding the agent's Unix sockets (admin, ingest) the same way: a stale socket file from an
//! earlier run is replaced, and the socket gets the mode asked for before anyone can use it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use tokio::net::UnixListener;

/// Binds a listener at `path` with `mode`, creating its directory and replacing a stale socket.
/// Callers hold the spool's lock, so no other agent can be listening there.
///
/// # Errors
/// The directory, the old file or the socket cannot be handled.
pub fn bind(path: &Path, mode: u32) -> std::io::Result<UnixListener> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(listener)
}
