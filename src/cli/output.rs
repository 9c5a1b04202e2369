//! Writing to stdout without panicking when the reader goes away (`noticed records | head`).

use std::io::Write;

/// Writes `text` to stdout; a closed pipe is reported as an error that `main` treats as success.
///
/// # Errors
/// The write failed.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Whether an error is a closed stdout pipe.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
