use super::*;
use crate::policy::KEY_LEN;

fn key() -> PseudonymKey {
    PseudonymKey::from_bytes(&[5; KEY_LEN])
}

fn scrub_with(config: &ScrubConfig, line: &str) -> String {
    let s = Scrubber::new(config);
    let mut out = Vec::new();
    s.scrub_line(
        &key(),
        line.as_bytes(),
        &mut LineState::default(),
        &mut Scratch::default(),
        &mut out,
    );
    String::from_utf8(out).unwrap()
}

fn masked(line: &str) -> String {
    let config = ScrubConfig {
        action: ScrubAction::Mask,
        ..ScrubConfig::default()
    };
    scrub_with(&config, line)
}

#[test]
fn log_lines_keep_their_shape() {
    let cases = [
        (
            "Jan  1 00:00:07 host01 sshd[4242]: Failed password for invalid user mallory from 192.0.2.7 port 52311 ssh2",
            "Jan  1 00:00:07 [hostname] sshd[4242]: Failed password for invalid user [user_name] from [ipv4] port 52311 ssh2",
        ),
        (
            "2001:db8::5 - - [01/Jan/2024:00:00:07 +0000] \"GET /login?email=bob.ann3@example.com HTTP/1.1\" 200 512",
            "[ipv6] - - [01/Jan/2024:00:00:07 +0000] \"GET /login?email=[email] HTTP/1.1\" 200 512",
        ),
        (
            "app[77]: level=info msg=\"payment accepted\" user=carol email=c@example.org card=4111111111111111 token=Bearer 0123456789abcdef0123456789abcdef",
            "app[77]: level=info msg=\"payment accepted\" user=[user_name] email=[email] card=[credit_card] token=Bearer [secret]",
        ),
        (
            "dhclient[9]: DHCPACK of 10.1.2.3 from 10.1.2.1 (xid=0x1a2b3c4d) hwaddr 0a:1b:2c:3d:4e:5f",
            "dhclient[9]: DHCPACK of [ipv4] from [ipv4] (xid=0x1a2b3c4d) hwaddr [mac]",
        ),
        (
            "kernel: [12.000001] EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null); seq=7",
            "kernel: [12.000001] EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null); seq=7",
        ),
        (
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=61-220-159-99.hinet-ip.hinet.net  user=root",
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=[ipv4]  user=[user_name]",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(masked(input), expected, "{input}");
    }
}

#[test]
fn secrets_in_their_many_forms_are_masked() {
    let cases = [
        ("password=hunter2 next", "password=[secret] next"),
        (
            r#"{"password": "hunter 2", "ok": 1}"#,
            r#"{"password": "[secret]", "ok": 1}"#,
        ),
        ("DB_PASSWD: s3cr3t!", "DB_PASSWD: [secret]"),
        (
            "Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l",
            "Authorization: Basic [secret]",
        ),
        (
            "curl -H 'Authorization: Bearer abc.def.ghi'",
            "curl -H 'Authorization: Bearer [secret]'",
        ),
        (
            "Cookie: sid=abc123; theme=dark",
            "Cookie: sid=[secret]; theme=[secret]",
        ),
        (
            "GET /cb?code=1&access_token=ya29.a0Af&sig=xyz",
            "GET /cb?code=1&access_token=[secret]&sig=[secret]",
        ),
        ("key AKIAIOSFODNN7EXAMPLE used", "key [secret] used"),
        (
            "ghp_0123456789abcdefghijABCDEFGHIJ012345 pushed",
            "[secret] pushed",
        ),
        (
            "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
            "[secret]",
        ),
        (
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
            "jwt [secret]",
        ),
        (
            "url https://admin:S3cret@db.example.com:5432/x",
            "url https://[user_name]:[secret]@[hostname]:5432/x",
        ),
        (
            "curl -u elastic:P@ssw0rd$1 https://localhost:9200",
            "curl -u [secret] https://localhost:9200",
        ),
        (
            "client_secret=bP88Q~rcBcYjzzOhg1Hnn76Wm3jGgakZiZ.8vMgR",
            "client_secret=[secret]",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(masked(input), expected, "{input}");
    }
}

#[test]
fn private_key_blocks_are_masked_across_lines() {
    let s = Scrubber::new(&ScrubConfig::default());
    let mut state = LineState::default();
    let mut scratch = Scratch::default();
    let lines = [
        "-----BEGIN RSA PRIVATE KEY-----",
        "MIIEowIBAAKCAQEA1234",
        "abcdEFGH==",
        "-----END RSA PRIVATE KEY-----",
        "after",
    ];
    let out: Vec<String> = lines
        .iter()
        .map(|l| {
            let mut out = Vec::new();
            s.scrub_line(&key(), l.as_bytes(), &mut state, &mut scratch, &mut out);
            String::from_utf8(out).unwrap()
        })
        .collect();
    assert_eq!(
        out,
        [
            "-----BEGIN RSA PRIVATE KEY-----",
            "[secret]",
            "[secret]",
            "-----END RSA PRIVATE KEY-----",
            "after"
        ]
    );
    let inline = r#"{"private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n"}"#;
    assert!(
        !masked(inline).contains("MIIEvQIBADANBg"),
        "{}",
        masked(inline)
    );
}

#[test]
fn pseudonyms_are_stable_typed_and_keyed() {
    let config = ScrubConfig::default();
    let a = scrub_with(&config, "from alice@example.com and alice@example.com");
    let token = a
        .strip_prefix("from ")
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        token.starts_with("[email:h:") && token.len() == "[email:h:12345678]".len(),
        "{a}"
    );
    assert_eq!(a, format!("from {token} and {token}"));
    assert_eq!(
        scrub_with(&config, "password=x"),
        "password=[secret]",
        "secrets are never pseudonymised"
    );
}

#[test]
fn scrubbing_twice_changes_nothing() {
    let config = ScrubConfig::default();
    for line in [
        "user=alice from 192.0.2.1 token=Bearer abcdefgh12345678 mail bob@example.com",
        "Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l",
        "https://u:p@h.example.com/ 2001:db8::1 aa:bb:cc:dd:ee:ff 4111 1111 1111 1111",
    ] {
        let once = scrub_with(&config, line);
        assert_eq!(scrub_with(&config, &once), once, "{line}");
    }
}

#[test]
fn admin_listed_names_and_switches() {
    let config = ScrubConfig {
        action: ScrubAction::Mask,
        user_names: vec!["svc-backup".into(), "Alice".into()],
        ..ScrubConfig::default()
    };
    assert_eq!(
        scrub_with(&config, "job svc-backup done by alice, not alicex"),
        "job [user_name] done by [user_name], not alicex"
    );
    let only_ip = ScrubConfig {
        detectors: vec![Detector::Ipv4],
        action: ScrubAction::Mask,
        ..ScrubConfig::default()
    };
    assert_eq!(
        scrub_with(&only_ip, "a@example.com 10.0.0.1 password=x"),
        "a@example.com [ipv4] password=x"
    );
}

#[test]
fn invalid_utf8_passes_through_and_control_bytes_go() {
    let s = Scrubber::new(&ScrubConfig {
        action: ScrubAction::Mask,
        ..ScrubConfig::default()
    });
    let line = b"\xff\xfe bad \x00 from 10.0.0.1 \xc3";
    let mut out = Vec::new();
    s.scrub_line(
        &key(),
        line,
        &mut LineState::default(),
        &mut Scratch::default(),
        &mut out,
    );
    assert_eq!(out, b"\xff\xfe bad  from [ipv4] \xc3");
}

#[test]
fn scrub_text_reports_offsets_per_line() {
    let s = Scrubber::new(&ScrubConfig {
        action: ScrubAction::Mask,
        ..ScrubConfig::default()
    });
    let (out, hits) = s.scrub_text(&key(), "ok\nfrom 10.0.0.1\n").unwrap();
    assert_eq!(out, "ok\nfrom [ipv4]\n");
    assert_eq!(
        (hits[0].start, hits[0].end, hits[0].detector),
        (8, 16, Detector::Ipv4)
    );
    assert!(s.scrub_text(&key(), "nothing personal").is_none());
}

#[test]
fn a_length_cap_inside_a_multibyte_character_does_not_split_it() {
    // The local part is capped at 64 bytes; 30 three-byte characters put the cap mid-character.
    let line = format!(
        "{}@example.com and {}@bücher.example",
        "€".repeat(30),
        "ü".repeat(200)
    );
    let out = scrub_with(&ScrubConfig::default(), &line);
    assert!(!out.contains("@example.com"), "{out}");
}

#[test]
fn keys_are_found_from_the_separator_back() {
    let cases = [
        (
            "x_DB_Password = \"hunter2\" ok",
            "x_DB_Password = \"[secret]\" ok",
        ),
        ("cfg.pwd:'hunter2' ok", "cfg.pwd:'[secret]' ok"),
        (
            "\"Proxy-Authorization\" : \"Basic dXNlcjpwYXNz\"",
            "\"Proxy-Authorization\" : \"[secret]\"",
        ),
        (
            "Set-Cookie: sid=abc123; Path=/",
            "Set-Cookie: sid=[secret]; Path=/",
        ),
        ("std::password::new()", "std::password::new()"),
        ("xpwd=hunter2 mypass=hunter2", "xpwd=hunter2 mypass=hunter2"),
        ("tokens: 3 secrets=12", "tokens: 3 secrets=12"),
        (
            "Failed password for user bob",
            "Failed password for user [user_name]",
        ),
        (
            "session opened by LOGIN AS root",
            "session opened by LOGIN AS [user_name]",
        ),
        (
            "curl --user=alice:pw https://x",
            "curl --user=[secret] https://x",
        ),
        (
            "key ghp_0123456789abcdefghijklmnopqrstuvwxyzAB end",
            "key [secret] end",
        ),
        (
            "id xghp_0123456789abcdefghijklmnopqrstuvwxyzAB end",
            "id xghp_0123456789abcdefghijklmnopqrstuvwxyzAB end",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(masked(input), want, "{input}");
    }
}

/// Found by fuzzing (fuzz/regressions/scrub): a key or phrase right after one of our own
/// tokens was taken to be inside it, and its value was kept.
#[test]
fn values_right_after_a_token_are_still_scrubbed() {
    assert_eq!(
        masked("auth [secret] Bearer 9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c"),
        "auth [secret] Bearer [secret]"
    );
    assert_eq!(
        masked("[secret] pwd=hunter2 ok"),
        "[secret] pwd=[secret] ok"
    );
    assert_eq!(
        masked("[ipv4] user=mallory logged in"),
        "[ipv4] user=[user_name] logged in"
    );
}

/// Spaces are only visited after `r`, `s` or `u` (`Class::PhraseEnd`): every phrase must end so.
#[test]
fn every_phrase_ends_in_a_phrase_end_byte() {
    for phrase in keywords::phrases() {
        let last = phrase.as_bytes()[phrase.len() - 1];
        let mut c = classes::Classes::default();
        c.scan(&[last]);
        assert!(
            c.any(classes::Class::PhraseEnd),
            "`{phrase}` ends in {last:?}"
        );
    }
}

#[test]
fn only_the_scrubbers_own_tokens_count_as_tokens() {
    assert!(is_token(b"[email:h:1f3a9c0d]"));
    assert!(is_token(b"[secret]"));
    assert!(!is_token(b"[hunter2:h:1f3a9c0d]"), "an unknown label");
    assert!(!is_token(b"[email:h:1f3a]"), "a short digest");
    assert!(!is_token(b"[email:x:1f3a9c0d]"));
    assert!(!is_token(b"email:h:1f3a9c0d"));
    // A value dressed as a token is still a value.
    let out = masked("login ok password=[Zq8vLm2x:h:1f3a9c0d] next");
    assert!(!out.contains("Zq8vLm2x"), "{out}");
}

#[test]
fn a_colon_run_after_a_dot_is_a_name_not_an_address() {
    for line in [
        "call Widget.ad::be done",
        "lib.cafe::face loaded",
        "v2.dead::beef:1",
    ] {
        assert_eq!(masked(line), line);
    }
}

#[test]
fn a_user_named_user_is_hidden_not_the_word_after_it() {
    assert_eq!(
        masked("sshd[24443]: Invalid user user from 192.0.2.7"),
        "sshd[24443]: Invalid user [user_name] from [ipv4]"
    );
    assert_eq!(
        masked("sshd[24443]: input_userauth_request: invalid user user [preauth]"),
        "sshd[24443]: input_userauth_request: invalid user [user_name] [preauth]"
    );
    assert_eq!(
        masked("Failed password for invalid user user from 192.0.2.7 port 22 ssh2"),
        "Failed password for invalid user [user_name] from [ipv4] port 22 ssh2"
    );
    assert_eq!(
        masked("Failed password for invalid user mallory from 192.0.2.7"),
        "Failed password for invalid user [user_name] from [ipv4]"
    );
}

#[test]
fn url_passwords_keep_their_unescaped_reserved_characters() {
    for (input, expected) in [
        (
            "postgres://app:p#ss/w?rd@db.example:5432/x",
            "postgres://[user_name]:[secret]@[hostname]:5432/x",
        ),
        (
            "amqp://guest:gu/e#st@mq.example/vhost",
            "amqp://[user_name]:[secret]@[hostname]/vhost",
        ),
        ("redis://:a@b%c@cache:6379", "redis://:[secret]@cache:6379"),
        (
            "see https://host:8080/a@b and https://u@h/x",
            "see https://host:8080/a@b and https://[user_name]@h/x",
        ),
        (
            "https://u:pw@h/cb?mail=x@y.org",
            "https://[user_name]:[secret]@h/cb?mail=[email]",
        ),
    ] {
        assert_eq!(masked(input), expected, "{input}");
    }
}

#[test]
fn macs_bare_after_their_word_and_with_short_octets() {
    for (input, expected) in [
        (
            "iface eth0 hwaddr b8444cbef727 mtu=1500",
            "iface eth0 hwaddr [mac] mtu=1500",
        ),
        ("at 6:5:5:2:c1:5f on en0", "at [mac] on en0"),
        ("commit b8444cbef727 merged", "commit b8444cbef727 merged"),
        ("time 12:30:45:10", "time 12:30:45:10"),
        (
            "nsswitch.conf passwd: files systemd",
            "nsswitch.conf passwd: files systemd",
        ),
        (
            "APP_KEY=base64:k2/9Xq+Lm0pZ7vW3rT8yB1nC4dF6gH5j=",
            "APP_KEY=[secret]",
        ),
        (
            "cache_key=user_profile sort key: name",
            "cache_key=user_profile sort key: name",
        ),
        (
            "token=Token{a64f992 kind} uid=10113 user=0 net 10.128.0.0 chip FF:F2:9F:16:DC:81:00:0D:60:E9 acl 172.16.30.0/29",
            "token=Token{a64f992 kind} uid=10113 user=0 net 10.128.0.0 chip FF:F2:9F:16:DC:81:00:0D:60:E9 acl [ipv4]/29",
        ),
        (
            "metadata[customer_id]=29831528 user[password]=hunter22",
            "metadata[customer_id]=[user_id] user[password]=[secret]",
        ),
        (
            "Authorization: Digest username=\"api\", response=\"6629fae49393a05397450978507c4ef1\"",
            // The first parameter after the scheme goes with it: the user name is hidden too.
            "Authorization: Digest [secret]\", response=\"[secret]\"",
        ),
        (
            "dsn mongodb+srv://lralt0:9/s%U/Kmx@db.ronu.com/db",
            "dsn mongodb+srv://[user_name]:[secret]@[hostname]/db",
        ),
    ] {
        assert_eq!(masked(input), expected, "{input}");
    }
}

#[test]
fn every_user_phrase_ends_in_a_word_the_space_rule_looks_for() {
    for phrase in keywords::phrases().filter(|p| p.contains(' ') && !p.starts_with(' ')) {
        let word = phrase.rsplit([' ', '\'']).next().unwrap_or_default();
        assert!(
            ["user", "for", "as", "benutzer", "utilisateur", "gebruiker"].contains(&word),
            "{phrase}"
        );
    }
}

#[test]
fn json_records_still_parse_after_scrubbing() {
    let record = r#"{"user":{"id":"00uqRoKi6hlXA8UNdZgI","username":"kpz7"},"geo":{"lat":52.370216,"lon":4.895168},"route":[52.370216, 4.895168],"card": 4111111111111111 ,"token":["ab12cd34ef56ab78cd90"],"customer":{"name":"Alba Hernández"}}"#;
    let out = masked(record);
    let parsed: serde_json::Value = serde_json::from_str(&out).expect(&out);
    assert_eq!(parsed["user"]["id"], "[user_id]", "{out}");
    assert_eq!(parsed["user"]["username"], "[user_name]", "{out}");
    assert_eq!(parsed["geo"]["lat"], "[gps]", "{out}");
    assert_eq!(parsed["route"][1], "[gps]", "{out}");
    assert_eq!(parsed["card"], "[credit_card]", "{out}");
    assert_eq!(parsed["token"][0], "[secret]", "{out}");
    assert_eq!(parsed["customer"]["name"], "[user_name]", "{out}");
    // Scrubbing the output again changes nothing.
    assert_eq!(masked(&out), out);
}

#[test]
fn machines_people_and_places_in_the_forms_devices_write_them() {
    let cases = [
        (
            "Feb 22 04:43:30 backup14 sshd[7]: Disconnected from authenticated user elena619 192.0.2.9 port 1",
            "Feb 22 04:43:30 [hostname] sshd[7]: Disconnected from authenticated user [user_name] [ipv4] port 1",
        ),
        (
            "<60>1 2024-02-22T04:30:01.966500Z db-p-49 authsvc 3890365 LOC ok",
            "<60>1 2024-02-22T04:30:01.966500Z [hostname] authsvc 3890365 LOC ok",
        ),
        (
            "dhcpd[1]: DHCPACK on 10.0.0.5 to c8fc966b291d (olgas-laptop) via eth0",
            "dhcpd[1]: DHCPACK on [ipv4] to [mac] ([hostname]) via eth0",
        ),
        (
            "hostapd: wlan0: STA 84325c8600ad IEEE 802.11: authenticated",
            "hostapd: wlan0: STA [mac] IEEE 802.11: authenticated",
        ),
        (
            r#"payload '{"ieeeAddr":"0x00178801bb4e6f96","temperature":17.5}'"#,
            r#"payload '{"ieeeAddr":"[mac]","temperature":17.5}'"#,
        ),
        (
            "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A",
            "$GPRMC,123519,A,[gps],N,[gps],E,022.4,084.4,230394,003.1,W*6A",
        ),
        (
            "HOSTNAME=app-tst-64-9056a4ad68 WorkstationName=OnePlus-14-alice hostname=localhost",
            "HOSTNAME=[hostname] WorkstationName=[hostname] hostname=localhost",
        ),
        (
            "session opened for user bob(uid=44757) by (uid=0); auid=6785 ses=3 auid=4294967295",
            "session opened for user [user_name](uid=[user_id]) by (uid=0); auid=[user_id] ses=3 auid=4294967295",
        ),
        (
            "subject=\"CN=leonie.hoffmann,O=Acme\" dn: CN=John Smith,OU=Users Group <GP> User <costab> A=dovecot_plain:jguo69 S=1",
            "subject=\"CN=[user_name],O=Acme\" dn: CN=[user_name],OU=Users Group <GP> User <[user_name]> A=dovecot_plain:[user_name] S=1",
        ),
        (
            "PID|1||320680988^^^NLMINBIZA^NNNLD||Ferrari^Margot^^^^L||20071024|M|||Kerkstraat 2^^Delft^^6568DI^NL||^NET^Internet^fivanov@wp.pl",
            "PID|1||[national_id]^^^NLMINBIZA^NNNLD||[user_name]^[user_name]^^^^L||20071024|M|||Kerkstraat 2^^Delft^^6568DI^NL||^NET^Internet^[email]",
        ),
        (
            "2024-07-25 11:45:32 inenie11/203.0.113.9:46220 MULTI_sva: pool returned",
            "2024-07-25 11:45:32 [user_name]/[ipv4]:46220 MULTI_sva: pool returned",
        ),
        (
            "2024-07-25 12:18:31.847 UTC [30438] meijerl@crm ERROR:  duplicate key",
            "2024-07-25 12:18:31.847 UTC [30438] [user_name]@crm ERROR:  duplicate key",
        ),
        (
            r#"{"cardHolderName": "Ethan Anderson"} Inhaber Ingrid Byrne, ConvertTo-SecureString 'tDQ!Y6' -AsPlainText"#,
            r#"{"cardHolderName": "[user_name]"} Inhaber [user_name], ConvertTo-SecureString '[secret]' -AsPlainText"#,
        ),
        (
            "dovecot: imap-login: Login: user=<bob.k7>, method=PLAIN, rip=192.0.2.9",
            "dovecot: imap-login: Login: user=<[user_name]>, method=PLAIN, rip=[ipv4]",
        ),
        (
            r#"error="basic auth jgarcia:Hi1966% rejected"; masterauth Hann2003! (redis) /ntlm:8846f7eaee8fb117ad06bdd830b7586c"#,
            r#"error="basic auth [user_name]:[secret] rejected"; masterauth [secret] (redis) /ntlm:[secret]"#,
        ),
        (
            "TargetUserSid S-1-5-21-2473421788-3527738465-3968314833-34728 called 06-85981015",
            "TargetUserSid [user_id] called [phone]",
        ),
        (
            "Betaling mislukt, klant 02439; medewerker P659769 verwerkt; Kunde 4471 angelegt",
            "Betaling mislukt, klant [user_id]; medewerker [user_id] verwerkt; Kunde [user_id] angelegt",
        ),
        (
            "statement: ALTER USER julia.krawczyk WITH LOGIN",
            "statement: ALTER USER [user_name] WITH LOGIN",
        ),
        (
            "Started by user Anton Peters; account holder Julia de Broek; naam=Jesse van den Berg;",
            "Started by user [user_name]; account holder [user_name]; naam=[user_name];",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(masked(input), expected, "{input}");
    }
}

#[test]
fn products_builds_and_unowned_devices_stay() {
    for line in [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Galaxy-S23-Ultra MacBook-Pro",
        "built android-studio and iphone-sdk on build-pc-01 for windows-desktop-app",
        r#"{"service":{"id":7},"name":"Checkout Service"} job name=Nightly Build"#,
        "took 1234.567,N and container 3f4e5d6c7b8a started",
        "Jan  1 00:00:00 app[509]: level=info",
        "Feb 22 04:43:30 localhost sshd[1]: started",
        "2024-01-01 10:00:00 ERROR app: failed",
        "uid=10113 uid=1000 user=0",
        "issuer=CN=R3,O=Example CA CN=Users CN=kubernetes A=1:2",
        "HOSTNAME=api-7d9f8b6c5-x2k4q idempotency_key=3f2b8c1e-9a4d-4e2f-8b6c-1d2e3f4a5b6c",
        "extension 2.5.29.17 (subjectAltName) and attribute 2.5.4.3",
        "dovecot: imap-login: Disconnected (no auth attempts in 0 secs)",
        "customer 3 of 5, member 2.1.0, patient portal v2, employee list",
        "SubjectUserSid S-1-5-18 and S-1-5-21-1-2-3-500 and S-1-5-32-544, build 06-2024",
        "2015-07-29 17:41:44,747 - INFO  [QuorumPeer] - Revalidating client: host1/10.0.0.0:3888",
        r#"{"fileName": "Annual Report", "name": "Checkout Service"}"#,
    ] {
        assert_eq!(masked(line), line);
    }
}
