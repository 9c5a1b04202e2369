//! glibc allocator settings for the long-running processes (`run`, `collector`): the one place
//! outside the scrubber's SIMD front end with `unsafe`, and a no-op on other C libraries.
//!
//! glibc's defaults let every busy thread grow an arena of its own (8 per core) and raise the
//! mmap threshold after each large free, so the megabyte buffers of rounds and batches come
//! from arenas and stay there once freed: the agent peaked at 160-175 MB resident with a 37 MB
//! live heap. Two arenas, buffers over 1 MiB always mapped (and unmapped when freed), and the
//! free pages handed back once rounds are stored keep it near what is in use.

/// Sets the arena count and mmap threshold; call before the runtime's threads start.
pub fn bound_for_daemon() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// The collector's settings: two arenas, and batch-sized buffers (a few MB, decompressed)
/// kept in the heap for the next batch instead of mapped and unmapped each time, which cost
/// it a sixth of its CPU in page faults. A collector serves many agents; it trades a stable
/// few tens of MB for that.
pub fn keep_for_collector() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 << 20);
    }
}

/// Returns free pages in the arenas to the system (after a round's drafts and records are
/// dropped), so that the next burst's peak does not stack on the last one's leftovers.
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory glibc holds free; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}
