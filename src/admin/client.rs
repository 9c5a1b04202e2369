//! The CLI's side of the admin socket.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

use super::{Op, Request, Response, VERSION};

/// Why the daemon could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum AdminClientError {
    /// Nobody listens on the socket (no daemon, or a stale socket file).
    #[error("no daemon answers on {0}")]
    NoDaemon(PathBuf),
    /// The conversation failed.
    #[error("admin socket {path}: {message}")]
    Failed {
        /// The socket.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// Sends one request to the daemon listening at `socket` and returns its response.
///
/// # Errors
/// [`AdminClientError::NoDaemon`] when no daemon listens; `Failed` for a broken exchange.
pub async fn request(socket: &Path, op: Op) -> Result<Response, AdminClientError> {
    let stream = match UnixStream::connect(socket).await {
        Ok(s) => s,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Err(AdminClientError::NoDaemon(socket.to_owned()));
        }
        Err(e) => return Err(failed(socket, e.to_string())),
    };
    let (read, mut write) = stream.into_split();
    let mut line = serde_json::to_vec(&Request { v: VERSION, op }).expect("requests serialize");
    line.push(b'\n');
    write
        .write_all(&line)
        .await
        .map_err(|e| failed(socket, e.to_string()))?;
    write
        .shutdown()
        .await
        .map_err(|e| failed(socket, e.to_string()))?;
    let mut reply = String::new();
    BufReader::new(read)
        .read_line(&mut reply)
        .await
        .map_err(|e| failed(socket, e.to_string()))?;
    serde_json::from_str(&reply).map_err(|e| failed(socket, format!("unreadable response: {e}")))
}

fn failed(path: &Path, message: String) -> AdminClientError {
    AdminClientError::Failed {
        path: path.to_owned(),
        message,
    }
}
