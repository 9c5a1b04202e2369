//! noticed: a telemetry agent driven by a privacy notice.
//!
//! Sources make [`record::Draft`]s; the [`policy`] turns each into a [`record::Record`] (or
//! refuses it); only records enter the [`spool`]; the shipper sends them to a collector.

pub mod admin;
pub mod agent;
pub mod allocator;
pub mod cli;
pub mod collector;
pub mod crashpoint;
pub mod logging;
pub mod notice;
pub mod policy;
pub mod record;
pub mod scrub;
pub mod ship;
pub mod sources;
pub mod spool;
pub mod unix_socket;
pub mod wire;
