//! What the packaged systemd unit relies on: Type=notify readiness and stopping messages on
//! $NOTIFY_SOCKET, and the state and runtime directories systemd passes in the environment.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;

#[test]
fn the_daemon_tells_systemd_it_is_ready_and_stopping() {
    let tmp = tempfile::tempdir().unwrap();
    let notify = tmp.path().join("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&notify).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let p = policy(
        tmp.path(),
        "p.toml",
        &tmp.path().join("agent"),
        "[[source]]\ntype = \"host_metrics\"\ninterval = \"1h\"\n\n[category.performance]\npurpose = \"service-operational\"\nallow = [\"memory.*\"]\n",
    );
    let child = Daemon::new(
        bin()
            .env("NOTIFY_SOCKET", &notify)
            .args(["run", "--policy", p.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut buf = [0u8; 64];
    let n = sock.recv(&mut buf).expect("READY=1 within 30 s");
    assert_eq!(&buf[..n], b"READY=1");
    assert!(
        tmp.path().join("agent/admin.sock").exists(),
        "ready means the admin socket is up"
    );
    terminate(child);
    let n = sock.recv(&mut buf).expect("STOPPING=1");
    assert_eq!(&buf[..n], b"STOPPING=1");
}

#[test]
fn systemds_state_directory_is_the_default_data_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    std::fs::create_dir(&state).unwrap();
    // The embedded default, named as a file: an installed /etc/noticed/policy.toml would
    // otherwise be taken instead. It sets no data_dir.
    let policy = tmp.path().join("default.toml");
    std::fs::write(&policy, include_str!("../config/default.toml")).unwrap();
    let out = bin()
        .env("STATE_DIRECTORY", &state)
        .args(["run", "--once", "--policy"])
        .arg(&policy)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("in {}/spool.redb", state.display())),
        "{}",
        text(&out)
    );
    assert!(state.join("pseudonym.key").exists());
}
