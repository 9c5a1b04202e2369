//! `host_config`: OS, kernel, host name, hardware, disks, network interfaces, installed packages,
//! enabled and running services, the agent's own version, and the config keys an admin lists
//! (category `configuration`). MAC and IP addresses are among them: the policy decides whether
//! and in which form they leave.
//!
//! After its first round the source sends a snapshot only when something changed: a host whose
//! configuration stands still costs one record per agent start.

use std::path::Path;
use std::process::Command;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use sysinfo::{Disks, Networks, System};

use super::{Round, Source, object};
use crate::policy::{ConfigFileSpec, HostConfigSpec, PathGlob};
use crate::record::{Category, Draft};

/// Reads the host's configuration facts.
pub struct HostConfig {
    spec: HostConfigSpec,
    policy_version: String,
    last: Option<[u8; 32]>,
}

impl HostConfig {
    /// A source for the given settings, reporting the notice version of the policy in force.
    pub fn new(spec: HostConfigSpec, policy_version: String) -> Self {
        HostConfig {
            spec,
            policy_version,
            last: None,
        }
    }
}

impl Source for HostConfig {
    fn kind(&self) -> &'static str {
        "host_config"
    }

    fn round(&mut self) -> Result<Round, String> {
        let mut system =
            System::new().map_err(|e| format!("system information unavailable: {e}"))?;
        system.refresh_memory();
        system.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
        let cpu_model = system.cpus().first().map(|c| c.brand().trim().to_owned());
        let mut fields = object([
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
            ("disks", disks()),
            ("network", interfaces()),
            (
                "agent",
                json!({"version": env!("CARGO_PKG_VERSION"), "policy_version": self.policy_version}),
            ),
        ]);
        if self.spec.packages {
            fields.insert("packages".into(), packages());
        }
        if self.spec.services {
            fields.insert("services".into(), services());
        }
        if !self.spec.files.is_empty() {
            let files: Vec<Value> = self.spec.files.iter().map(config_file).collect();
            fields.insert("config".into(), json!({ "files": files }));
        }
        let digest: [u8; 32] = Sha256::digest(Value::Object(fields.clone()).to_string()).into();
        if self.last == Some(digest) {
            return Ok(Round::default());
        }
        self.last = Some(digest);
        Ok(Round::of(vec![Draft::new(
            Category::Configuration,
            self.kind(),
            fields,
        )]))
    }
}

fn disks() -> Value {
    let Ok(disks) = Disks::new_with_refreshed_list() else {
        return json!({"available": false});
    };
    let mut sorted: Vec<_> = disks.iter().collect();
    sorted.sort_by(|a, b| a.mount_point().cmp(b.mount_point()));
    let mounts: Vec<Value> = sorted
        .into_iter()
        .map(|d| {
            json!({
                "mount": d.mount_point().to_string_lossy(),
                "file_system": d.file_system().to_string_lossy(),
                "kind": format!("{:?}", d.kind()).to_lowercase(),
                "removable": d.is_removable(),
                "read_only": d.is_read_only(),
                "total_bytes": d.total_space(),
            })
        })
        .collect();
    json!({ "mounts": mounts })
}

fn interfaces() -> Value {
    let Ok(networks) = Networks::new_with_refreshed_list() else {
        return json!({"available": false});
    };
    let mut names: Vec<_> = networks.keys().collect();
    names.sort();
    let list: Vec<Value> = names
        .into_iter()
        .map(|name| {
            let n = &networks[name];
            // Sorted: the kernel lists addresses in no stable order, and a snapshot that
            // shuffles would look changed every round.
            let mut addresses: Vec<String> = n
                .ip_networks()
                .iter()
                .map(|ip| format!("{}/{}", ip.addr, ip.prefix))
                .collect();
            addresses.sort();
            json!({
                "name": name.to_string_lossy(),
                "mac": n.mac_address().to_string(),
                "addresses": addresses,
                "mtu": n.mtu(),
            })
        })
        .collect();
    json!({ "interfaces": list })
}

/// Runs a short query command; `None` when it is missing or fails.
fn query(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Installed packages from dpkg, or rpm where there is no dpkg.
fn packages() -> Value {
    let (manager, text) = if let Some(t) = query(
        "dpkg-query",
        &["-W", "-f=${db:Status-Abbrev}\t${Package}\t${Version}\n"],
    ) {
        let installed: String = t
            .lines()
            .filter(|l| l.starts_with("ii"))
            .filter_map(|l| l.split_once('\t').map(|(_, rest)| format!("{rest}\n")))
            .collect();
        ("dpkg", installed)
    } else if let Some(t) = query("rpm", &["-qa", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\n"]) {
        ("rpm", t)
    } else {
        return json!({"available": false});
    };
    let mut list: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    list.sort();
    let installed: Vec<Value> = list
        .into_iter()
        .map(|(n, v)| json!({"name": n, "version": v}))
        .collect();
    json!({"manager": manager, "count": installed.len(), "installed": installed})
}

/// Enabled and running systemd services; `available: false` where systemd does not answer.
fn services() -> Value {
    let names = |args: &[&str]| {
        query("systemctl", args).map(|t| {
            let mut v: Vec<String> = t
                .lines()
                .filter_map(|l| l.split_whitespace().next())
                .map(str::to_owned)
                .collect();
            v.sort();
            v
        })
    };
    let enabled = names(&[
        "list-unit-files",
        "--type=service",
        "--state=enabled",
        "--no-legend",
        "--plain",
        "--no-pager",
    ]);
    let running = names(&[
        "list-units",
        "--type=service",
        "--state=running",
        "--no-legend",
        "--plain",
        "--no-pager",
    ]);
    match (enabled, running) {
        (Some(enabled), Some(running)) => json!({"enabled": enabled, "running": running}),
        _ => json!({"available": false}),
    }
}

/// The listed keys of one config file; keys not listed are never read out.
fn config_file(spec: &ConfigFileSpec) -> Value {
    let parsed = std::fs::read_to_string(&spec.path)
        .map_err(|e| format!("cannot read: {}", e.kind()))
        .and_then(|text| parse_config(&spec.path, &text));
    match parsed {
        Ok(all) => {
            let mut values = Map::new();
            select(&all, &mut String::new(), &spec.keys, &mut values);
            json!({"path": spec.path, "values": values})
        }
        Err(error) => json!({"path": spec.path, "error": error}),
    }
}

/// Parses TOML (`.toml`), JSON (`.json`) or `key=value` / `key: value` lines (anything else).
fn parse_config(path: &Path, text: &str) -> Result<Map<String, Value>, String> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => {
            let v: toml::Table =
                toml::from_str(text).map_err(|e| format!("not valid TOML: {}", e.message()))?;
            serde_json::to_value(v)
                .ok()
                .and_then(|v| v.as_object().cloned())
                .ok_or_else(|| "not a TOML table".to_owned())
        }
        Some("json") => match serde_json::from_str(text) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err("not a JSON object".into()),
            Err(e) => Err(format!("not valid JSON at line {}", e.line())),
        },
        _ => {
            let mut m = Map::new();
            for line in text.lines().map(str::trim) {
                if line.is_empty() || line.starts_with(['#', ';', '[']) {
                    continue;
                }
                if let Some((k, v)) = line.split_once('=').or_else(|| line.split_once(':')) {
                    let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
                    insert_dotted(&mut m, k.trim(), Value::String(v.to_owned()));
                }
            }
            Ok(m)
        }
    }
}

fn insert_dotted(map: &mut Map<String, Value>, key: &str, value: Value) {
    match key.split_once('.') {
        Some((head, rest)) => {
            let entry = map
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = entry {
                insert_dotted(inner, rest, value);
            }
        }
        None => {
            map.insert(key.to_owned(), value);
        }
    }
}

/// Copies into `out` only the leaves whose dotted path a listed glob covers.
fn select(
    map: &Map<String, Value>,
    path: &mut String,
    keys: &[PathGlob],
    out: &mut Map<String, Value>,
) {
    for (name, value) in map {
        let base = path.len();
        if base > 0 {
            path.push('.');
        }
        path.push_str(name);
        match value {
            Value::Object(inner) => {
                let mut sub = Map::new();
                select(inner, path, keys, &mut sub);
                if !sub.is_empty() {
                    out.insert(name.clone(), Value::Object(sub));
                }
            }
            leaf if keys.iter().any(|k| k.covers(path)) => {
                out.insert(name.clone(), leaf.clone());
            }
            _ => {}
        }
        path.truncate(base);
    }
}

#[cfg(test)]
impl HostConfig {
    fn new_for_test(spec: HostConfigSpec) -> Self {
        HostConfig::new(spec, "test-policy".into())
    }
}

/// Where a test can point `files` without touching the host's own configuration.
#[cfg(test)]
fn spec_with(files: Vec<(std::path::PathBuf, &[&str])>) -> HostConfigSpec {
    HostConfigSpec {
        interval: crate::policy::Interval(std::time::Duration::from_secs(60)),
        packages: true,
        services: true,
        files: files
            .into_iter()
            .map(|(path, keys)| ConfigFileSpec {
                path,
                keys: keys.iter().map(|k| PathGlob::new(k).unwrap()).collect(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_config_keys_are_read_out_of_each_format() {
        let dir = tempfile::tempdir().unwrap();
        let toml_path = dir.path().join("app.toml");
        std::fs::write(
            &toml_path,
            "[server]\nport = 8080\nadmin_password = \"hunter2\"\n[features]\nbeta = true\n",
        )
        .unwrap();
        let json_path = dir.path().join("app.json");
        std::fs::write(
            &json_path,
            r#"{"log": {"level": "info", "token": "abc"}, "workers": 4}"#,
        )
        .unwrap();
        let env_path = dir.path().join("app.env");
        std::fs::write(
            &env_path,
            "# comment\nMODE=production\nDB_PASSWORD='s3cret'\ncache.size = 64\n",
        )
        .unwrap();
        let missing = dir.path().join("missing.toml");
        let mut source = HostConfig::new_for_test(spec_with(vec![
            (toml_path, &["server.port", "features.*"]),
            (json_path, &["log.level", "workers"]),
            (env_path, &["MODE", "cache.*"]),
            (missing, &["*"]),
        ]));
        let drafts = source.round().unwrap().drafts.into_vec();
        let files = &drafts[0].fields["config"]["files"];
        assert_eq!(
            files[0]["values"],
            json!({"server": {"port": 8080}, "features": {"beta": true}})
        );
        assert_eq!(
            files[1]["values"],
            json!({"log": {"level": "info"}, "workers": 4})
        );
        assert_eq!(
            files[2]["values"],
            json!({"MODE": "production", "cache": {"size": "64"}})
        );
        assert_eq!(files[3]["error"], json!("cannot read: entity not found"));
        let text = Value::Object(drafts[0].fields.clone()).to_string();
        for secret in ["hunter2", "abc\"", "s3cret"] {
            assert!(!text.contains(secret), "unlisted key read out: {secret}");
        }
    }

    #[test]
    fn a_round_has_the_promised_fields_and_unchanged_rounds_send_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.toml");
        std::fs::write(&path, "port = 1\n").unwrap();
        let mut source = HostConfig::new_for_test(spec_with(vec![(path.clone(), &["port"])]));
        let first = source.round().unwrap().drafts.into_vec();
        assert_eq!(first.len(), 1);
        let f = &first[0].fields;
        for key in [
            "os", "kernel", "host", "hardware", "disks", "network", "agent", "packages",
            "services", "config",
        ] {
            assert!(f.contains_key(key), "missing {key}");
        }
        assert!(f["hardware"]["cpu_count"].as_u64().unwrap() >= 1);
        assert!(
            f["network"]["interfaces"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["name"] == "lo")
        );
        if Path::new("/usr/bin/dpkg-query").exists() {
            assert_eq!(f["packages"]["manager"], "dpkg");
            let installed = f["packages"]["installed"].as_array().unwrap();
            assert!(
                installed.iter().any(|p| p["name"] == "bash"),
                "bash is installed here"
            );
            assert_eq!(
                f["packages"]["count"].as_u64().unwrap() as usize,
                installed.len()
            );
        }
        let systemd_up = Path::new("/run/systemd/system").exists();
        assert_eq!(
            f["services"].get("available") == Some(&json!(false)),
            !systemd_up,
            "{}",
            f["services"]
        );

        assert!(
            source.round().unwrap().is_empty(),
            "nothing changed, nothing sent"
        );
        std::fs::write(&path, "port = 2\n").unwrap();
        let changed = source.round().unwrap().drafts.into_vec();
        assert_eq!(
            changed[0].fields["config"]["files"][0]["values"]["port"],
            json!(2)
        );
    }
}
