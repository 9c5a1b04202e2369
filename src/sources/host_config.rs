//! `host_config`: OS, kernel, hardware and agent facts (category `configuration`).
//! The host name is among them; the policy decides whether it leaves, and in which form.

use serde_json::json;
use sysinfo::System;

use super::{Source, object};
use crate::record::{Category, Draft};

/// Reads the host's configuration facts.
#[derive(Default)]
pub struct HostConfig;

impl HostConfig {
    /// A new source.
    pub fn new() -> Self {
        HostConfig
    }
}

impl Source for HostConfig {
    fn kind(&self) -> &'static str {
        "host_config"
    }

    fn round(&mut self) -> Result<Vec<Draft>, String> {
        let mut system =
            System::new().map_err(|e| format!("system information unavailable: {e}"))?;
        system.refresh_memory();
        system.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
        let cpu_model = system.cpus().first().map(|c| c.brand().trim().to_owned());
        let fields = object([
            (
                "os",
                json!({
                    "name": System::name().ok(),
                    "version": System::os_version().ok(),
                    "id": System::distribution_id(),
                }),
            ),
            ("kernel", json!({"version": System::kernel_version().ok()})),
            ("host", json!({"name": System::host_name().ok()})),
            (
                "hardware",
                json!({
                    "arch": System::cpu_arch(),
                    "cpu_model": cpu_model,
                    "cpu_count": system.cpus().len(),
                    "physical_cores": System::physical_core_count().ok(),
                    "memory_bytes": system.total_memory(),
                }),
            ),
            ("agent", json!({"version": env!("CARGO_PKG_VERSION")})),
        ]);
        Ok(vec![Draft::new(
            Category::Configuration,
            self.kind(),
            fields,
        )])
    }
}
