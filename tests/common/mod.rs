//! Helpers for tests that run the real `noticed` binary: a collector process on loopback,
//! policy files in temp dirs, and a proxy that loses acknowledgements on purpose.
#![allow(dead_code)]

pub mod proxy;
pub mod scripted;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary under test.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_noticed"));
    c.env("NOTICED_LOG", "warn").stdin(Stdio::null());
    c
}

/// A `noticed collector` child process, killed on drop.
pub struct Collector {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// `http` or `https`.
    pub scheme: String,
    /// Its data directory.
    pub dir: PathBuf,
}

impl Collector {
    /// Starts a collector on a free loopback port, storing into `dir`.
    pub fn start(dir: &Path) -> Collector {
        Collector::start_with(dir, &[])
    }

    /// Like [`Collector::start`], with more arguments (`--tls-cert …`).
    pub fn start_with(dir: &Path, args: &[&str]) -> Collector {
        Collector::spawn(bin(), dir, args, "warn", Stdio::inherit())
    }

    /// Like [`Collector::start_with`], its log (stderr, level info) written to `log`.
    pub fn start_logged(dir: &Path, args: &[&str], log: &Path) -> Collector {
        Collector::spawn(
            bin(),
            dir,
            args,
            "info",
            std::fs::File::create(log).unwrap().into(),
        )
    }

    /// Like [`Collector::start`], but no file of the process may grow past `bytes`: a full disk
    /// for this process alone (writes past it fail with EFBIG) until [`Collector::lift_file_limit`].
    pub fn start_with_file_limit(dir: &Path, bytes: u64) -> Collector {
        let mut cmd = bin();
        limit_file_size(&mut cmd, bytes);
        Collector::spawn(cmd, dir, &[], "warn", Stdio::inherit())
    }

    /// Lets the collector's files grow again (its disk has room once more).
    pub fn lift_file_limit(&self) {
        lift_file_limit(self.child.id());
    }

    /// Like [`Collector::start`], listening on `listen` (`127.0.0.1:0` for any free port) with
    /// `env` set: a crash point armed, or a collector restarted where agents look for it.
    pub fn start_env(dir: &Path, listen: &str, env: &[(&str, &str)]) -> Collector {
        let mut cmd = bin();
        cmd.envs(env.iter().copied());
        Collector::spawn_on(cmd, listen, dir, &[], "warn", Stdio::inherit())
    }

    /// Waits for the collector to end by itself (within `limit`) and returns how it ended.
    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        wait_for("the collector to exit", limit, || {
            self.child.try_wait().unwrap()
        })
    }

    fn spawn(cmd: Command, dir: &Path, args: &[&str], level: &str, stderr: Stdio) -> Collector {
        Collector::spawn_on(cmd, "127.0.0.1:0", dir, args, level, stderr)
    }

    fn spawn_on(
        mut cmd: Command,
        listen: &str,
        dir: &Path,
        args: &[&str],
        level: &str,
        stderr: Stdio,
    ) -> Collector {
        let mut child = cmd
            .env("NOTICED_LOG", level)
            .args(["collector", "--listen", listen, "--data-dir"])
            .arg(dir)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("collector starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let (addr, scheme) = line
            .trim()
            .strip_prefix("noticed collector listening on ")
            .and_then(|rest| rest.split_once(' '))
            .unwrap_or_else(|| panic!("unexpected collector banner {line:?}"));
        Collector {
            child,
            addr: addr.parse().unwrap(),
            scheme: scheme.trim_matches(|c| c == '(' || c == ')').to_owned(),
            dir: dir.to_owned(),
        }
    }

    /// The batch URL.
    pub fn endpoint(&self) -> String {
        format!("{}://{}/v1/batches", self.scheme, self.addr)
    }

    /// Every record stored, from every purpose's files.
    pub fn records(&self) -> Vec<Value> {
        jsonl_under(&self.dir)
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every JSON line of every `.jsonl` file below `dir`.
pub fn jsonl_under(dir: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(jsonl_under(&p));
        } else if p.extension().is_some_and(|x| x == "jsonl") {
            for line in std::fs::read_to_string(&p).unwrap().lines() {
                out.push(serde_json::from_str(line).expect("collector writes JSON lines"));
            }
        }
    }
    out
}

/// Writes `text` to `tmp/logs/app.log` and a policy (with `extra` TOML before its source) that
/// reads it from the beginning as service logs, message scrubbed, and ships to `endpoint`;
/// returns the policy's path and the agent's data folder.
pub fn log_file_policy(tmp: &Path, endpoint: &str, text: &str, extra: &str) -> (PathBuf, PathBuf) {
    let logs = tmp.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("app.log"), text).unwrap();
    let data = tmp.join("agent");
    let body = format!(
        "{}{extra}[[source]]\ntype = \"log_file\"\npaths = [\"{}/*.log\"]\nstart_at = \"beginning\"\n\n\
         [category.service-logs]\npurpose = \"service-operational\"\nallow = [\"file\"]\nscrub = [\"message\"]\n",
        collector_section(endpoint),
        logs.display()
    );
    (policy(tmp, "p.toml", &data, &body), data)
}

/// Writes a policy with a notice, `data_dir`, and `body`, and returns its path.
pub fn policy(dir: &Path, name: &str, data_dir: &Path, body: &str) -> PathBuf {
    let path = dir.join(name);
    let text = format!(
        "[notice]\ntitle = \"Test notice\"\nversion = \"2019-07-01\"\ncontact = \"privacy@example.com\"\n\n[agent]\ndata_dir = {:?}\n\n{body}",
        data_dir.display().to_string()
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// `[collector]` pointing at `endpoint`.
pub fn collector_section(endpoint: &str) -> String {
    format!(
        "[collector]\nendpoint = {endpoint:?}\nbatch_max_records = 500\nflush_interval = \"1s\"\ntimeout = \"5s\"\n\n"
    )
}

/// Runs the binary with `args` to completion.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("noticed runs")
}

/// `noticed run --once --policy FILE`.
pub fn run_once(policy: &Path) -> Output {
    run(&["run", "--once", "--policy", policy.to_str().unwrap()])
}

/// `noticed records --json --policy FILE`, parsed.
pub fn records_json(policy: &Path) -> Vec<Value> {
    let out = run(&[
        "records",
        "--json",
        "--limit",
        "1000",
        "--policy",
        policy.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "records failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Text of a finished process's stdout and stderr, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Polls `check` until it returns `Some`, failing the test after `limit`.
pub fn wait_for<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// This machine's host name, as the agent reads it.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned()
}

/// Whether `needle` occurs in any file below `dir`.
pub fn occurs_under(dir: &Path, needle: &[u8]) -> Option<PathBuf> {
    for e in std::fs::read_dir(dir).ok()? {
        let p = e.unwrap().path();
        if p.is_dir() {
            if let Some(hit) = occurs_under(&p, needle) {
                return Some(hit);
            }
        } else if let Ok(bytes) = std::fs::read(&p)
            && bytes.windows(needle.len()).any(|w| w == needle)
        {
            return Some(p);
        }
    }
    None
}

/// A daemon child process, killed if the test ends (or panics) without stopping it, so no
/// agent outlives its test.
pub struct Daemon(Option<Child>);

impl Daemon {
    /// Takes charge of a daemon started some other way.
    pub fn new(child: Child) -> Daemon {
        Daemon(Some(child))
    }
}

impl std::ops::Deref for Daemon {
    type Target = Child;
    fn deref(&self) -> &Child {
        self.0.as_ref().expect("a running daemon")
    }
}

impl std::ops::DerefMut for Daemon {
    fn deref_mut(&mut self) -> &mut Child {
        self.0.as_mut().expect("a running daemon")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts `noticed run --policy FILE` with logs at `level` and waits until it has logged every
/// one of `needles`; returns the child and the log lines read so far. The rest of the log is
/// drained on a thread, so the daemon never blocks on a full pipe.
pub fn start_daemon(policy: &Path, level: &str, needles: &[&str]) -> (Daemon, Vec<String>) {
    let mut child = spawn_daemon(bin(), policy, level);
    let mut log = BufReader::new(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    let mut missing: Vec<&str> = needles.to_vec();
    while !missing.is_empty() {
        let mut line = String::new();
        assert!(
            log.read_line(&mut line).unwrap() > 0,
            "daemon ended before logging {missing:?}"
        );
        missing.retain(|n| !line.contains(n));
        seen.push(line);
    }
    std::thread::spawn(move || std::io::copy(&mut log, &mut std::io::sink()));
    (Daemon(Some(child)), seen)
}

/// Sends SIGTERM and requires a clean exit.
pub fn terminate(mut daemon: Daemon) {
    let mut child = daemon.0.take().expect("a running daemon");
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&child),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
}

/// The daemon's `status` answer over its admin socket in `data_dir`, if it answers.
pub fn admin_status(data_dir: &Path) -> Option<Value> {
    use std::io::Write;
    let mut admin = std::os::unix::net::UnixStream::connect(data_dir.join("admin.sock")).ok()?;
    writeln!(admin, r#"{{"v":1,"op":"status"}}"#).ok()?;
    let mut reply = String::new();
    BufReader::new(admin).read_line(&mut reply).ok()?;
    serde_json::from_str(&reply).ok()
}

/// A counter from a `status` answer (0 when absent).
pub fn counter(status: &Value, name: &str) -> u64 {
    status["counters"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c[0] == name)
        .map_or(0, |c| c[1].as_u64().unwrap_or(0))
}

/// Waits (up to `limit`) until `n` distinct lines are at the collector; returns how often
/// each arrived.
pub fn arrivals_at_least(
    collector: &Collector,
    n: usize,
    limit: Duration,
) -> std::collections::HashMap<u64, usize> {
    wait_for(
        &format!("{n} distinct lines at the collector"),
        limit,
        || {
            let a = arrivals(collector);
            (a.len() >= n).then_some(a)
        },
    )
}

/// Replaces `from` by `to` in the policy file at `path`.
pub fn edit_policy(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "the policy has no {from:?}");
    std::fs::write(path, text.replace(from, to)).unwrap();
}

/// Each stored line is `line N …`; how often each N arrived at the collector.
pub fn arrivals(collector: &Collector) -> std::collections::HashMap<u64, usize> {
    let mut seen = std::collections::HashMap::new();
    for r in collector.records() {
        let m = r["fields"]["message"].as_str().unwrap();
        let n: u64 = m.split_whitespace().nth(1).unwrap().parse().unwrap();
        *seen.entry(n).or_default() += 1;
    }
    seen
}

/// Whether the test runs as root. Elsewhere it is skipped with a visible reason, except in CI
/// (`CI` set), which runs as root: there a missing precondition fails the test.
pub fn root_or_skip(why: &str) -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run this test as root: {why}"
    );
    eprintln!("SKIPPED (not root): {why}");
    false
}

/// Makes `cmd`'s process unable to grow any file past `bytes`: a full disk for that process
/// alone (writes past it fail with EFBIG, SIGXFSZ ignored) until [`lift_file_limit`].
pub fn limit_file_size(cmd: &mut Command, bytes: u64) {
    // SAFETY: between fork and exec only async-signal-safe calls, on values copied in.
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: libc::RLIM_INFINITY,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
}

/// Lets process `pid`'s files grow again (its disk has room once more).
pub fn lift_file_limit(pid: u32) {
    let limit = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: a plain syscall on our own child, with a valid limit and no old-limit pointer.
    let rc = unsafe {
        libc::prlimit(
            pid as libc::pid_t,
            libc::RLIMIT_FSIZE,
            &limit,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
}

/// Starts `noticed run --policy FILE` from `cmd` (a [`bin`] with limits or variables set), its
/// log at `level` sent line by line to the returned channel.
pub fn start_daemon_watched(
    cmd: Command,
    policy: &Path,
    level: &str,
) -> (Daemon, std::sync::mpsc::Receiver<String>) {
    let mut child = spawn_daemon(cmd, policy, level);
    let log = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in log.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (Daemon(Some(child)), rx)
}

/// Waits (up to `limit`) for a log line from [`start_daemon_watched`] that contains `needle`.
pub fn wait_for_line(log: &std::sync::mpsc::Receiver<String>, needle: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match log.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return,
            Ok(_) => {}
            Err(e) => panic!("no log line with {needle:?}: {e}"),
        }
    }
}

/// `cmd run --policy FILE`, logging at `level` to a pipe.
fn spawn_daemon(mut cmd: Command, policy: &Path, level: &str) -> Child {
    cmd.env("NOTICED_LOG", level)
        .args(["run", "--policy", policy.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("daemon starts")
}
