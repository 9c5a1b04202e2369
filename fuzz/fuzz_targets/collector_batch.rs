//! The collector's batch decoder, plain and gzip-compressed: a batch or a refusal, never a
//! panic.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::collector_batch(data));
