//! `host_metrics`: CPU (total and per core), load, memory, swap, disks (space and I/O rates),
//! network interfaces (byte rates and totals), and the top processes by CPU and by memory
//! (category `performance`). Never a command line or environment: they carry secrets.

use std::time::Instant;

use serde_json::{Value, json};
use sysinfo::{Disks, Networks, ProcessRefreshKind, ProcessesToUpdate, System};

use super::{Round, Source, object};
use crate::record::{Category, Draft};

/// Samples the host's performance figures with sysinfo; rates are per second since the last round.
pub struct HostMetrics {
    system: Option<System>,
    networks: Option<Networks>,
    disks: Option<Disks>,
    top: usize,
    last: Option<Instant>,
}

impl HostMetrics {
    /// A source reporting the `top` busiest processes by CPU and by memory.
    pub fn new(top: usize) -> Self {
        HostMetrics {
            system: System::new().ok(),
            networks: Networks::new_with_refreshed_list().ok(),
            disks: Disks::new_with_refreshed_list().ok(),
            top,
            last: None,
        }
    }

    fn refresh(system: &mut System) {
        system.refresh_cpu_usage();
        system.refresh_memory();
        system.refresh_processes_specifics(
            ProcessesToUpdate::All,
            true,
            ProcessRefreshKind::nothing().with_cpu().with_memory(),
        );
    }
}

impl Source for HostMetrics {
    fn kind(&self) -> &'static str {
        "host_metrics"
    }

    fn round(&mut self) -> Result<Round, String> {
        let Some(system) = self.system.as_mut() else {
            return Err("system information is not available on this platform".into());
        };
        if self.last.is_none() {
            // Usage and rates are differences of two samples at least this far apart.
            Self::refresh(system);
            if let Some(n) = self.networks.as_mut() {
                n.refresh(true);
            }
            if let Some(d) = self.disks.as_mut() {
                d.refresh(true);
            }
            self.last = Some(Instant::now());
            std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
        }
        Self::refresh(system);
        let now = Instant::now();
        let seconds = self
            .last
            .map_or(1.0, |l| now.duration_since(l).as_secs_f64())
            .max(1e-3);
        self.last = Some(now);
        let per_second = |bytes: u64| (bytes as f64 / seconds).round();

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
            ("processes", processes(system, self.top)),
        ]);
        if let Ok(load) = System::load_average() {
            fields.insert(
                "load".into(),
                json!({"one": load.one, "five": load.five, "fifteen": load.fifteen}),
            );
        }
        if let Some(disks) = self.disks.as_mut() {
            disks.refresh(true);
            let mounts: Vec<Value> = disks
                .iter()
                .map(|d| {
                    let usage = d.usage();
                    let total = d.total_space();
                    let used = total.saturating_sub(d.available_space());
                    json!({
                        "mount": d.mount_point().to_string_lossy(),
                        "file_system": d.file_system().to_string_lossy(),
                        "total_bytes": total,
                        "available_bytes": d.available_space(),
                        "used_percent": if total == 0 { 0.0 } else { (used as f64 * 1000.0 / total as f64).round() / 10.0 },
                        "read_bytes_per_second": per_second(usage.read_bytes),
                        "written_bytes_per_second": per_second(usage.written_bytes),
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
                        "rx_bytes_per_second": per_second(n.received()),
                        "tx_bytes_per_second": per_second(n.transmitted()),
                        "rx_bytes_total": n.total_received(),
                        "tx_bytes_total": n.total_transmitted(),
                        "rx_errors_total": n.total_errors_on_received(),
                        "tx_errors_total": n.total_errors_on_transmitted(),
                    })
                })
                .collect();
            fields.insert("network".into(), json!({ "interfaces": interfaces }));
        }
        Ok(Round::of(vec![Draft::new(
            Category::Performance,
            self.kind(),
            fields,
        )]))
    }
}

/// Process count and the `top` processes by CPU and by resident memory: name, pid, CPU share
/// and RSS only.
fn processes(system: &System, top: usize) -> Value {
    let mut all: Vec<_> = system.processes().values().collect();
    let view = |p: &sysinfo::Process| {
        json!({
            "name": p.name().to_string_lossy(),
            "pid": p.pid().as_u32(),
            "cpu_percent": p.cpu_usage(),
            "rss_bytes": p.memory(),
        })
    };
    all.sort_by(|a, b| {
        b.cpu_usage()
            .total_cmp(&a.cpu_usage())
            .then(a.pid().cmp(&b.pid()))
    });
    let top_cpu: Vec<Value> = all.iter().take(top).map(|p| view(p)).collect();
    all.sort_by(|a, b| b.memory().cmp(&a.memory()).then(a.pid().cmp(&b.pid())));
    let top_memory: Vec<Value> = all.iter().take(top).map(|p| view(p)).collect();
    json!({"count": all.len(), "top_cpu": top_cpu, "top_memory": top_memory})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_has_the_promised_fields_and_no_command_lines() {
        let mut source = HostMetrics::new(3);
        let mut drafts = source.round().unwrap().drafts.into_vec();
        drafts.extend(source.round().unwrap().drafts.into_vec());
        assert_eq!(drafts.len(), 2);
        let f = serde_json::Value::Object(drafts[1].fields.clone());
        assert_eq!(
            f["cpu"]["count"].as_u64().unwrap() as usize,
            f["cpu"]["cores"].as_array().unwrap().len()
        );
        assert!(
            f["memory"]["total_bytes"].as_u64().unwrap()
                >= f["memory"]["used_bytes"].as_u64().unwrap()
        );
        assert!(f["load"]["one"].as_f64().unwrap() >= 0.0);
        let top = f["processes"]["top_memory"].as_array().unwrap();
        assert!(!top.is_empty() && top.len() <= 3, "{top:?}");
        let rss: Vec<u64> = top
            .iter()
            .map(|p| p["rss_bytes"].as_u64().unwrap())
            .collect();
        assert!(
            rss.windows(2).all(|w| w[0] >= w[1]),
            "sorted by memory: {rss:?}"
        );
        assert!(f["processes"]["count"].as_u64().unwrap() >= top.len() as u64);
        let mounts = f["disk"]["mounts"].as_array().unwrap();
        assert!(mounts.iter().any(|m| m["mount"] == "/"), "{mounts:?}");
        assert!(
            mounts
                .iter()
                .all(|m| m["read_bytes_per_second"].as_f64().unwrap() >= 0.0)
        );
        let interfaces = f["network"]["interfaces"].as_array().unwrap();
        assert!(
            interfaces.iter().any(|i| i["name"] == "lo"),
            "{interfaces:?}"
        );
        let text = f.to_string();
        for forbidden in ["\"cmd", "environ", "\"exe\"", "\"cwd\""] {
            assert!(!text.contains(forbidden), "{forbidden} in {text}");
        }
    }
}
