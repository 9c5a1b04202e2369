//! `host_metrics`: CPU, load, memory, swap, disks, network counters and process count
//! (category `performance`). Never a command line or environment: they carry secrets.

use serde_json::{Value, json};
use sysinfo::{Disks, Networks, ProcessRefreshKind, ProcessesToUpdate, System};

use super::{Source, object};
use crate::record::{Category, Draft};

/// Samples the host's performance figures with sysinfo.
pub struct HostMetrics {
    system: Option<System>,
    networks: Option<Networks>,
    primed: bool,
}

impl HostMetrics {
    /// A source that samples on each round; its first round takes two CPU samples.
    pub fn new() -> Self {
        HostMetrics {
            system: System::new().ok(),
            networks: Networks::new_with_refreshed_list().ok(),
            primed: false,
        }
    }
}

impl Default for HostMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Source for HostMetrics {
    fn kind(&self) -> &'static str {
        "host_metrics"
    }

    fn round(&mut self) -> Result<Vec<Draft>, String> {
        let Some(system) = self.system.as_mut() else {
            return Err("system information is not available on this platform".into());
        };
        if !self.primed {
            // CPU usage is the difference of two samples at least this far apart.
            system.refresh_cpu_usage();
            std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
            self.primed = true;
        }
        system.refresh_cpu_usage();
        system.refresh_memory();
        system.refresh_processes_specifics(
            ProcessesToUpdate::All,
            true,
            ProcessRefreshKind::nothing(),
        );

        let mut fields = object([
            (
                "cpu",
                json!({
                    "usage_percent": system.global_cpu_usage(),
                    "count": system.cpus().len(),
                    "cores": system.cpus().iter().map(|c| json!({"usage_percent": c.usage()})).collect::<Vec<_>>(),
                }),
            ),
            (
                "memory",
                json!({
                    "total_bytes": system.total_memory(),
                    "used_bytes": system.used_memory(),
                    "available_bytes": system.available_memory(),
                }),
            ),
            (
                "swap",
                json!({"total_bytes": system.total_swap(), "used_bytes": system.used_swap()}),
            ),
            ("processes", json!({"count": system.processes().len()})),
        ]);
        if let Ok(load) = System::load_average() {
            fields.insert(
                "load".into(),
                json!({"one": load.one, "five": load.five, "fifteen": load.fifteen}),
            );
        }
        if let Ok(disks) = Disks::new_with_refreshed_list() {
            let mounts: Vec<Value> = disks
                .iter()
                .map(|d| {
                    json!({
                        "mount": d.mount_point().to_string_lossy(),
                        "file_system": d.file_system().to_string_lossy(),
                        "total_bytes": d.total_space(),
                        "available_bytes": d.available_space(),
                    })
                })
                .collect();
            fields.insert("disk".into(), json!({ "mounts": mounts }));
        }
        if let Some(networks) = self.networks.as_mut() {
            networks.refresh(true);
            let mut names: Vec<_> = networks.keys().collect();
            names.sort();
            let interfaces: Vec<Value> = names
                .into_iter()
                .map(|name| {
                    let n = &networks[name];
                    json!({
                        "name": name.to_string_lossy(),
                        "rx_bytes_total": n.total_received(),
                        "tx_bytes_total": n.total_transmitted(),
                    })
                })
                .collect();
            fields.insert("network".into(), json!({ "interfaces": interfaces }));
        }
        Ok(vec![Draft::new(Category::Performance, self.kind(), fields)])
    }
}
