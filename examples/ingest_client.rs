//! A minimal application reporting a feature-usage event to a running noticed agent.
//!
//! `cargo run --example ingest_client -- /var/lib/noticed/ingest.sock` sends one event and
//! prints the agent's answer (`{"ok":true}`, or `{"ok":false,"error":"..."}`).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;

fn main() -> std::io::Result<()> {
    let socket = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/var/lib/noticed/ingest.sock".into());
    let mut stream = UnixStream::connect(&socket)?;
    // One JSON object per line; only `event` and `fields` are required.
    writeln!(
        stream,
        r#"{{"event":"report.exported","fields":{{"feature":"reports","duration_ms":41}}}}"#
    )?;
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer)?;
    print!("{answer}");
    Ok(())
}
