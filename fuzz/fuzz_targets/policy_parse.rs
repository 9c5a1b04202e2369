//! The policy parser: an error or a policy, never a panic; an error names the file.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::policy_parse(data));
