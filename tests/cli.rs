//! The command line as an admin meets it: policy checks, the daemon, `records`.

mod common;

use std::time::Duration;

use common::*;

#[test]
fn policy_check_accepts_the_shipped_policies() {
    let root = env!("CARGO_MANIFEST_DIR");
    for file in ["config/default.toml", "config/examples/tour.toml"] {
        let path = format!("{root}/{file}");
        let out = run(&["policy", "check", &path]);
        assert!(out.status.success(), "{file}: {}", text(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.starts_with(&format!("{path}: valid: ")), "{stdout}");
        assert!(stdout.contains("usage consent off"), "{stdout}");
        let local_only = file == "config/default.toml";
        assert_eq!(
            stdout.contains("no collector (local only)"),
            local_only,
            "{stdout}"
        );
    }
}

#[test]
fn broken_policies_are_reported_with_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let head = "[notice]\ntitle = \"t\"\nversion = \"1\"\ncontact = \"c\"\n";
    let cases = [
        (
            "typo.toml",
            "[consent]\nusgae = true\n",
            "6:1: unknown field `usgae`",
        ),
        (
            "purpose.toml",
            "[category.performance]\npurpose = \"marketing\"\n",
            "6:11: unknown variant `marketing`",
        ),
        (
            "interval.toml",
            "[[source]]\ntype = \"host_metrics\"\ninterval = \"often\"\n",
            "7:12: invalid duration `often`",
        ),
        ("syntax.toml", "[collector\n", "5:11: "),
    ];
    for (name, body, expected) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, format!("{head}{body}")).unwrap();
        for args in [vec!["policy", "check"], vec!["run", "--once", "--policy"]] {
            let mut args = args.clone();
            args.push(path.to_str().unwrap());
            let out = run(&args);
            assert_eq!(
                out.status.code(),
                Some(78),
                "{name} {args:?}: {}",
                text(&out)
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            let want = format!("{}:{expected}", path.display());
            assert!(
                stderr.contains(&want),
                "{name} {args:?}: want {want:?} in {stderr}"
            );
        }
    }
    let out = run(&["policy", "check", "/nonexistent/policy.toml"]);
    assert_eq!(out.status.code(), Some(78));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("cannot read policy /nonexistent/policy.toml")
    );
}

#[test]
fn records_come_from_the_daemon_while_it_runs_and_from_the_spool_after() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("agent");
    let p = policy(
        tmp.path(),
        "p.toml",
        &data,
        "[[source]]\ntype = \"host_metrics\"\ninterval = \"1h\"\n\n[[source]]\ntype = \"host_config\"\ninterval = \"1h\"\n\n[category.performance]\npurpose = \"service-operational\"\nallow = [\"memory.*\"]\n\n[category.configuration]\npurpose = \"service-operational\"\nallow = [\"os.*\"]\n",
    );
    let mut daemon = bin()
        .args(["run", "--policy", p.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();

    let listed = wait_for(
        "both first rounds to be stored",
        Duration::from_secs(30),
        || {
            let out = run(&["records", "--json", "--policy", p.to_str().unwrap()]);
            let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            (out.status.success() && lines.len() == 2).then_some(lines)
        },
    );
    assert!(
        data.join("admin.sock").exists(),
        "the answer came through the daemon's socket"
    );
    assert!(
        listed.iter().all(|r| r["delivery"]["state"] == "pending"),
        "no collector: records stay local"
    );
    let table = run(&["records", "--policy", p.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.starts_with("ID") && table.contains("host_metrics") && table.contains("pending"),
        "{table}"
    );

    rustix::process::kill_process(
        rustix::process::Pid::from_child(&daemon),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    let status = daemon.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(daemon.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(
        status.success(),
        "clean exit on SIGTERM: {status:?}\n{stderr}"
    );
    assert!(!data.join("admin.sock").exists(), "socket removed on exit");

    let after = records_json(&p);
    assert_eq!(
        after, listed,
        "the spool, read directly, holds the same records"
    );
}

#[test]
fn records_on_a_fresh_machine_says_how_to_start() {
    let tmp = tempfile::tempdir().unwrap();
    let p = policy(tmp.path(), "p.toml", &tmp.path().join("agent"), "");
    let out = run(&["records", "--policy", p.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("noticed run --once"));
}

#[test]
fn a_starting_daemon_waits_for_a_brief_reader_of_its_spool() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("agent");
    let p = policy(tmp.path(), "p.toml", &data, "");
    let held = noticed::spool::Spool::open(&data).unwrap();
    let mut daemon = Daemon::new(
        bin()
            .env("NOTICED_LOG", "debug")
            .args(["run", "--policy", p.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut log = std::io::BufReader::new(daemon.stderr.take().unwrap());
    let mut until = |needle: &str| {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                log.read_line(&mut line).unwrap() > 0,
                "daemon ended before logging {needle:?}"
            );
            if line.contains(needle) {
                return;
            }
        }
    };
    until("held by another process; retrying");
    drop(held);
    until("noticed running");
    terminate(daemon);
}

#[test]
fn sigterm_right_after_start_stops_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let p = policy(tmp.path(), "p.toml", &tmp.path().join("agent"), "");
    for _ in 0..5 {
        let (daemon, _) = start_daemon(&p, "info", &["noticed running"]);
        terminate(daemon);
    }
}

#[test]
fn a_stuck_source_stalls_neither_the_others_nor_shutdown() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("stuck.toml");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let logs = tmp.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("app.log"), "one\ntwo\nthree\n").unwrap();
    let data = tmp.path().join("agent");
    let body = format!(
        "[[source]]\ntype = \"host_config\"\nfiles = [{{ path = {:?}, keys = [\"*\"] }}]\n\n\
         [[source]]\ntype = \"log_file\"\npaths = [\"{}/*.log\"]\nstart_at = \"beginning\"\npoll_interval = \"50ms\"\n\n\
         [category.configuration]\npurpose = \"service-operational\"\nallow = [\"os.*\"]\n\n\
         [category.service-logs]\npurpose = \"service-operational\"\nscrub = [\"message\"]\n",
        fifo.display().to_string(),
        logs.display()
    );
    let p = policy(tmp.path(), "p.toml", &data, &body);
    let (daemon, _) = start_daemon(&p, "warn", &[]);
    // host_config's round blocks opening the FIFO; the log lines must arrive regardless.
    let records = wait_for("the log lines", Duration::from_secs(30), || {
        let out = run(&["records", "--json", "--policy", p.to_str().unwrap()]);
        let n = String::from_utf8_lossy(&out.stdout).lines().count();
        (out.status.success() && n >= 3).then_some(n)
    });
    assert_eq!(
        records, 3,
        "only the log lines: host_config never finished its round"
    );

    let mut admin = std::os::unix::net::UnixStream::connect(data.join("admin.sock")).unwrap();
    std::io::Write::write_all(&mut admin, b"{\"v\":1,\"op\":\"status\"}\n").unwrap();
    let mut reply = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(admin), &mut reply).unwrap();
    assert!(
        reply.contains(r#"["stored.log_file.service-logs.service-operational",3]"#),
        "{reply}"
    );

    terminate(daemon);
}

#[test]
fn completions_and_the_man_page_come_from_the_clap_definitions() {
    let bash = common::run(&["completions", "bash"]);
    assert!(bash.status.success());
    let script = String::from_utf8_lossy(&bash.stdout);
    assert!(
        script.contains("_noticed()")
            && script.contains("dead-letters")
            && script.contains("--grep"),
        "{script}"
    );
    let fish = String::from_utf8_lossy(&common::run(&["completions", "fish"]).stdout).into_owned();
    assert!(fish.contains("complete -c noticed"), "{fish}");
    let man = String::from_utf8_lossy(&common::run(&["man"]).stdout).into_owned();
    assert!(
        man.contains(".TH noticed 1") && man.contains("explain"),
        "{man}"
    );
}
