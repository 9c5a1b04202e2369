//! User names in the phrases of su, sudo, cron, logind and Windows logs that the key and phrase
//! rules of [`super::keywords`] do not reach: `… by NAME(uid=1000)` and a trailing `by NAME`,
//! `sudo: NAME : TTY=…`, cron's `(NAME) CMD (…)`, `DOMAIN\NAME`, `user NAME logged in`.

use super::classes::{Class, Classes};
use super::formats;
use super::values::{inside_token, is_user_byte, push, skip_blanks, user_like};
use super::vocabulary::USER_KEYS;
use super::{Detector, Hit, Label, eq_fold, is_token};

/// Words after which a name stands (`username 'bob'`, `gebruiker bob is ingelogd`); `user name`
/// too, matched as two words.
const NAMING_WORDS: [&[u8]; 8] = [
    b"username",
    b"gebruiker",
    b"gebruikersnaam",
    b"account",
    b"user",
    b"benutzer",
    b"utilisateur",
    b"usuario",
];

/// Words a person's number follows in prose (`klant 02439`, `medewerker P659769`, `Kunde
/// 4471`, `patient 88213`).
const ID_WORDS: [&[u8]; 11] = [
    b"klant",
    b"medewerker",
    b"werknemer",
    b"kunde",
    b"mitarbeiter",
    b"customer",
    b"employee",
    b"patient",
    b"member",
    b"cliente",
    b"empleado",
];

/// What follows a named account in a log phrase.
const FOLLOWERS: [&[u8]; 27] = [
    b"locked",
    b"not found",
    b"heeft",
    b"inici\xc3\xb3",
    b"unlocked",
    b"created",
    b"deleted",
    b"removed",
    b"disabled",
    b"enabled",
    b"added",
    b"wurde",
    b"hat sich",
    b"s'est",
    b"a \xc3\xa9t\xc3\xa9",
    b"logged",
    b"is ingelogd",
    b"is uitgelogd",
    b"ingelogd",
    b"uitgelogd",
    b"aangemeld",
    b"authenticated",
    b"succeeded",
    b"failed",
    b"signed",
    b"connected",
    b"disconnected",
];

/// The run of user-name bytes at `i`, without a trailing `.` or `-`, and not one of our tokens.
pub(super) fn name_at(line: &[u8], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    while j < line.len() && is_user_byte(line[j]) && line[j] != b'\\' {
        j += 1;
    }
    while j > i && matches!(line[j - 1], b'.' | b'-') {
        j -= 1;
    }
    (j > i && user_like(&line[i..j]) && !is_token(&line[i..j]) && !inside_token(line, i))
        .then_some((i, j))
}

/// The run of user-name bytes that ends at `e`.
fn name_before(line: &[u8], e: usize) -> Option<(usize, usize)> {
    let mut s = e;
    while s > 0 && is_user_byte(line[s - 1]) && line[s - 1] != b'\\' {
        s -= 1;
    }
    name_at(line, s).filter(|&(_, b)| b == e)
}

pub(super) fn user(hits: &mut Vec<Hit>, span: Option<(usize, usize)>) {
    if let Some((a, b)) = span {
        push(hits, a, b, Detector::UserName, Label::UserName);
    }
}

/// Adds a hit for the user name of every phrase above in `line`.
#[inline(never)]
pub(super) fn find(line: &[u8], classes: &Classes, hits: &mut Vec<Hit>) {
    for p in classes.ones_after(Class::Space, Class::Word) {
        match line.get(p + 1) {
            Some(b'[') => bracketed(line, p, hits),
            // Squid's user column, before the hierarchy code (`… amw HIER_DIRECT/10.0.0.1 …`).
            Some(b'H') if line[p + 1..].starts_with(b"HIER_") => {
                user(
                    hits,
                    name_before(line, p).filter(|&(a, b)| &line[a..b] != b"-"),
                );
            }
            Some(b'-') => command_user(line, p, hits),
            _ => {}
        }
        // The last letters of `by` and of the naming words.
        if !matches!(line[p - 1] | 0x20, b'y' | b'r' | b'e' | b'm' | b't' | b'o') {
            continue;
        }
        let mut s = p;
        while s > 0 && line[s - 1].is_ascii_alphanumeric() {
            s -= 1;
        }
        let word = &line[s..p];
        if word.eq_ignore_ascii_case(b"by") {
            if s > 0 && line[s - 1] == b' ' {
                named_by(line, p, hits);
            }
        } else if NAMING_WORDS.iter().any(|w| word.eq_ignore_ascii_case(w))
            || (word.eq_ignore_ascii_case(b"name")
                && s >= 5
                && line[s - 5..s].eq_ignore_ascii_case(b"user ")
                && (s == 5 || !line[s - 6].is_ascii_alphanumeric()))
        {
            named(line, p + 1, hits);
        } else if ID_WORDS.iter().any(|w| word.eq_ignore_ascii_case(w)) {
            person_number(line, p + 1, hits);
        }
    }
    for c in classes.ones(Class::Colon) {
        // `sudo: NAME : TTY=pts/0 ; …`
        if c > 1 && line[c - 1] == b' ' && line.get(c + 1) == Some(&b' ') {
            let e = c - 1;
            if let Some((a, b)) = name_before(line, e) {
                let lead = line[..a].trim_ascii_end();
                if lead.ends_with(b"sudo:") || sudo_with_pid(lead) {
                    user(hits, Some((a, b)));
                }
            }
        }
    }
    // vsftpd's `[NAME] OK LOGIN` and `[NAME] FAIL LOGIN`, cron's `(NAME) CMD (…)`.
    for u in classes.ones_after(Class::Upper, Class::Space) {
        if !line[u..].starts_with(b"LOGIN") {
            continue;
        }
        let m = u - 1;
        for verdict in [&b"] OK"[..], b"] FAIL"] {
            if line[..m].ends_with(verdict) {
                let end = m - verdict.len();
                if let Some(o) = memchr::memrchr(b'[', &line[..end]) {
                    user(hits, name_at(line, o + 1).filter(|&(_, b)| b == end));
                }
            }
        }
    }
    if classes.any(Class::Paren)
        && let Some(m) = finder!(b") CMD (").find(line)
        && let Some(o) = memchr::memrchr(b'(', &line[..m])
    {
        user(hits, name_at(line, o + 1).filter(|&(_, b)| b == m));
    }
    if classes.any(Class::Lt) {
        for m in finder!(b"\" <").find_iter(line) {
            display_name(line, m, hits);
        }
        user_elements(line, classes, hits);
    }
    if classes.any(Class::Upper) {
        for d in classes.ones(Class::Dash) {
            if d > 0 && line[d - 1] == b'S' && line[d..].starts_with(b"-1-5-21-") {
                formats::windows_sid(line, d - 1, hits);
            }
        }
    }
    if line.starts_with(b"PID|") {
        formats::hl7_patient_names(line, hits);
    }
    if line.len() > 8 && line[0].is_ascii_hexdigit() {
        remote_user(line, hits);
    }
    for c in classes.ones(Class::Colon) {
        if c >= 4 && &line[c - 3..c] == b"ame" && matches!(line[c - 4], b'N' | b'n') {
            account_name(line, c - 4, c + 1, hits);
        }
    }
    mentions(line, classes, hits);
    at_addresses(line, classes, hits);
    formats::openvpn_client(line, classes.stamp(), hits);
    if classes.any(Class::Paren) {
        for open in classes.ones(Class::Paren) {
            dovecot_passdb(line, open, hits);
        }
    }
    for p in classes.ones(Class::Separator) {
        // Exim's authenticator field: `A=dovecot_plain:NAME`, `A=login:NAME`.
        if line[p] == b'=' && p >= 1 && line[p - 1] == b'A' && (p == 1 || line[p - 2] == b' ') {
            let mech = line[p + 1..]
                .iter()
                .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                .count();
            if mech > 0
                && line[p + 1].is_ascii_alphabetic()
                && line.get(p + 1 + mech) == Some(&b':')
            {
                user(hits, name_at(line, p + 2 + mech));
            }
        }
        // A certificate's or directory entry's common name: `CN=leonie.hoffmann,O=…`,
        // `CN=John Smith,OU=Users`. A login (with `.`, `_` or a digit) or a written-out name;
        // not a host name, a container (`CN=Users`) or a CA's name.
        if line[p] == b'='
            && p >= 2
            && eq_fold(&line[p - 2..p], b"cn")
            && (p == 2 || matches!(line[p - 3], b' ' | b',' | b'/' | b'"' | b'(' | b'\''))
        {
            formats::common_name(line, p + 1, hits);
        }
        // An AWS ARN's IAM user: `arn:aws:iam::123456789012:user/NAME`.
        if line.get(p + 1) == Some(&b'u') && line[p] == b':' && line[p + 1..].starts_with(b"user/")
        {
            user(
                hits,
                name_at(line, p + 6).map(|(a, b)| (a, b.min(word_end(line, a)))),
            );
        }
        // A connection string's `User Id=NAME;`.
        if p >= 7
            && line[p - 1] | 0x20 == b'd'
            && line[p] == b'='
            && eq_fold(&line[p - 7..p], b"user id")
        {
            user(
                hits,
                name_at(line, p + 1).map(|(a, b)| (a, b.min(word_end(line, a)))),
            );
        }
    }
    for bs in classes.ones(Class::Backslash) {
        // Samba's `[CORP]\[NAME]`.
        if bs > 0 && line[bs - 1] == b']' && line.get(bs + 1) == Some(&b'[') {
            let a = bs + 2;
            let b = word_end(line, a);
            if b > a && line.get(b) == Some(&b']') {
                user(hits, Some((a, b)));
            }
            continue;
        }
        // `CORP\NAME`: an upper-case domain word, a backslash, a name.
        let mut d = bs;
        while d > 0
            && (line[d - 1].is_ascii_uppercase()
                || line[d - 1].is_ascii_digit()
                || line[d - 1] == b'-')
        {
            d -= 1;
        }
        let domain = bs - d;
        // Not a path's segment (`\\?\GLOBALROOT\Device`).
        if (2..=15).contains(&domain)
            && (d == 0 || !(line[d - 1].is_ascii_alphanumeric() || line[d - 1] == b'\\'))
            && line[d].is_ascii_uppercase()
        {
            let v = skip_blanks(line, bs + 1);
            if v == bs + 1 {
                user(hits, name_at(line, v));
            }
        }
    }
}

/// The end of the run of name bytes at `a` without `@` (an ARN's or connection string's name
/// ends at `;`, `/`, `"`).
pub(super) fn word_end(line: &[u8], a: usize) -> usize {
    a + line[a..].iter().take_while(|&&b| is_name_byte(b)).count()
}

/// The start of the run of name bytes that ends at `e` (the name before an `@`).
fn word_start(line: &[u8], e: usize) -> usize {
    e - line[..e]
        .iter()
        .rev()
        .take_while(|&&b| is_name_byte(b))
        .count()
}

/// Letters, digits, `.`, `_` and `-`: what the position-based rules take as a name.
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
}

/// `NAME@192.0.2.7` (ssh's and SIP's user at an address; not an e-mail address) and Kerberos'
/// `NAME@REALM` (an upper-case realm).
/// The number after an [`ID_WORDS`] word: four or more characters, three digits or more, not
/// a decimal or a version (`customer 3 of 5`, `member 2.1.0` stay).
fn person_number(line: &[u8], a: usize, hits: &mut Vec<Hit>) {
    let len = line[a..]
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        .count();
    let id = &line[a..a + len];
    let digits = id.iter().filter(|b| b.is_ascii_digit()).count();
    if len >= 4 && digits >= 3 && !matches!(line.get(a + len), Some(b'.' | b'@' | b'/' | b':')) {
        push(hits, a, a + len, Detector::UserName, Label::UserId);
    }
}

/// The severities PostgreSQL writes after its line prefix.
const PG_LEVELS: &[&[u8]] = &[
    b"LOG:",
    b"ERROR:",
    b"FATAL:",
    b"WARNING:",
    b"STATEMENT:",
    b"DETAIL:",
    b"HINT:",
    b"NOTICE:",
    b"PANIC:",
    b"DEBUG",
];

fn at_addresses(line: &[u8], classes: &Classes, hits: &mut Vec<Hit>) {
    for at in classes.ones(Class::At) {
        let after = at + 1;
        let address = line.get(after).is_some_and(u8::is_ascii_digit)
            && super::net::quad(line, after, b'.').is_some();
        let realm_len = line[after..]
            .iter()
            .take_while(|b| {
                b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-')
            })
            .count();
        let realm = realm_len >= 2
            && line[after].is_ascii_uppercase()
            && !line
                .get(after + realm_len)
                .is_some_and(|&b| b.is_ascii_lowercase() || b == b'@');
        // PostgreSQL's `%u@%d` prefix: `[30438] NAME@DB ERROR:  …`.
        let db_end = after
            + line[after..]
                .iter()
                .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                .count();
        let postgres = db_end > after
            && line.get(db_end) == Some(&b' ')
            && PG_LEVELS.iter().any(|l| line[db_end + 1..].starts_with(l));
        if !(address || realm || postgres) {
            continue;
        }
        let s = word_start(line, at);
        // The name stands on its own (`ssh: NAME@…`, `<sip:NAME@…>`), not glued to a class
        // (`Connector@0.0.0.0`); a service principal (`HTTP/host@REALM`) names a host, and URL
        // userinfo is the URL rule's.
        let alone = s == 0
            || matches!(
                line[s - 1],
                b' ' | b'"' | b'\'' | b'<' | b':' | b'(' | b'[' | b','
            );
        if s == at || !alone || line[..s].ends_with(b"//") || line[after..].starts_with(b"0.0.0.0")
        {
            continue;
        }
        if !is_token(&line[s..at]) && !inside_token(line, s) {
            user(hits, Some((s, at)));
        }
    }
}

/// Elasticsearch's `Authentication of [NAME]` and `failed to authenticate user [NAME]`, the
/// space before `[` at `p`.
fn bracketed(line: &[u8], p: usize, hits: &mut Vec<Hit>) {
    let named = p >= 17
        && (eq_fold(&line[p - 17..p], b"authentication of")
            || eq_fold(&line[p - 17..p], b"authenticate user"));
    let a = p + 2;
    let b = word_end(line, a);
    if named && b > a && line.get(b) == Some(&b']') {
        user(hits, Some((a, b)));
    }
}

/// The user flag of the commands that take one (`docker login -u NAME`, `mysql -u NAME`,
/// `psql -U NAME`, `mongosh --username NAME`), the space after the command's word at `p`.
fn command_user(line: &[u8], p: usize, hits: &mut Vec<Hit>) {
    const COMMANDS: [&[u8]; 7] = [
        b"login",
        b"mysql",
        b"mysqldump",
        b"mariadb",
        b"psql",
        b"mongo",
        b"mongosh",
    ];
    let word = &line[p - line[..p]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count()..p];
    if !COMMANDS.contains(&word) {
        return;
    }
    let rest = &line[p..line.len().min(p + 64)];
    for flag in [&b" -u "[..], b" -U ", b" --user ", b" --username "] {
        if let Some(f) = memchr::memmem::find(rest, flag) {
            user(hits, name_at(line, p + f + flag.len()));
        }
    }
}

/// Dovecot's `passwd-file(NAME,192.0.2.7)`, `pam(NAME,…)`, `sql(NAME,…)`, `ldap(NAME,…)`: the
/// password database, the user and the client address.
fn dovecot_passdb(line: &[u8], open: usize, hits: &mut Vec<Hit>) {
    const PASSDBS: [&[u8]; 6] = [
        b"passwd-file",
        b"passwd",
        b"pam",
        b"sql",
        b"ldap",
        b"shadow",
    ];
    if !PASSDBS.iter().any(|p| line[..open].ends_with(p)) {
        return;
    }
    let a = open + 1;
    let b = word_end(line, a);
    if b > a && line.get(b) == Some(&b',') && line.get(b + 1).is_some_and(|c| c.is_ascii_hexdigit())
    {
        user(hits, Some((a, b)));
    }
}

/// `sudo[2181]:`, as journald and rsyslog write the program with its process id.
fn sudo_with_pid(lead: &[u8]) -> bool {
    let Some(rest) = lead.strip_suffix(b"]:") else {
        return false;
    };
    let digits = rest.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    digits > 0 && rest[..rest.len() - digits].ends_with(b"sudo[")
}

/// An access log's remote user: `ADDRESS - NAME [date] "GET …"` (`-` when there is none).
fn remote_user(line: &[u8], hits: &mut Vec<Hit>) {
    let Some(sp) = memchr::memchr(b' ', line) else {
        return;
    };
    let address = &line[..sp];
    if address.is_empty()
        || !address
            .iter()
            .all(|&b| b.is_ascii_hexdigit() || b == b'.' || b == b':')
        || !line[sp..].starts_with(b" - ")
    {
        return;
    }
    if let Some((a, b)) = name_at(line, sp + 3)
        && line[b..].starts_with(b" [")
    {
        user(hits, Some((a, b)));
    }
}

/// `<login>NAME</login>`, `<username>NAME</username>`: an element named by a user key.
fn user_elements(line: &[u8], classes: &Classes, hits: &mut Vec<Hit>) {
    for lt in classes.ones(Class::Lt) {
        // Cisco's `User <NAME>`.
        if lt >= 5
            && line[lt - 1] == b' '
            && eq_fold(&line[lt - 5..lt - 1], b"user")
            && (lt == 5 || !line[lt - 6].is_ascii_alphanumeric())
            && let Some((a, b)) = name_at(line, lt + 1)
            && line.get(b) == Some(&b'>')
        {
            user(hits, Some((a, b)));
            continue;
        }
        let mut j = lt + 1;
        while j < line.len()
            && (line[j].is_ascii_alphanumeric() || matches!(line[j], b'_' | b'-' | b':'))
        {
            j += 1;
        }
        // A namespaced element (`<wsse:Username>`) by its local name.
        let tag = &line[lt + 1..j];
        let tag = tag.rsplit(|&b| b == b':').next().unwrap_or(tag);
        if line.get(j) != Some(&b'>') || !USER_KEYS.iter().any(|k| eq_fold(k.as_bytes(), tag)) {
            continue;
        }
        if let Some((a, b)) = name_at(line, j + 1)
            && line[b..].starts_with(b"</")
        {
            user(hits, Some((a, b)));
        }
    }
}

/// `by NAME(uid=…)`, or `by NAME` ending the line (`Successful su for root by NAME`), the space
/// after `by` at `p`; `by @NAME` is a mention, found elsewhere.
fn named_by(line: &[u8], p: usize, hits: &mut Vec<Hit>) {
    let n = name_at(line, p + 1).filter(|&(a, _)| line[a] != b'@');
    let Some((_, b)) = n else {
        return;
    };
    // A trailing `by NAME` only after `for …` (`su for root by NAME`), not in `caused by parity`.
    if line.get(b) == Some(&b'(')
        || (line[b..].trim_ascii().is_empty()
            && finder!(b" for ")
                .find(&line[p.saturating_sub(48)..p])
                .is_some())
    {
        user(hits, n);
    }
}

/// `username 'bob'`, `gebruiker bob is ingelogd`: after a naming word, a name quoted, or
/// followed by what happened to the account; `v` is where the name may start.
fn named(line: &[u8], v: usize, hits: &mut Vec<Hit>) {
    let quoted = matches!(line.get(v), Some(b'\'' | b'"'));
    if let Some((a, b)) = name_at(line, v + usize::from(quoted))
        && ((quoted && line.get(b) == line.get(v))
            || FOLLOWERS.iter().any(|f| {
                line[b..].len() > f.len()
                    && line[b] == b' '
                    && line[b + 1..b + 1 + f.len()].eq_ignore_ascii_case(f)
            }))
    {
        user(hits, Some((a, b)));
    }
}

/// `"Jane Doe" <jane@example.org>`, `"bob" <sip:bob@pbx>`: a mailbox's display name.
fn display_name(line: &[u8], close: usize, hits: &mut Vec<Hit>) {
    let from = close.saturating_sub(64);
    let Some(open) = memchr::memrchr(b'"', &line[from..close]).map(|o| from + o) else {
        return;
    };
    let addr = &line[close + 3..line.len().min(close + 3 + 128)];
    let mailbox =
        memchr::memchr(b'>', addr).is_some_and(|gt| memchr::memchr(b'@', &addr[..gt]).is_some());
    if mailbox && close > open + 1 && !is_token(&line[open + 1..close]) {
        user(hits, Some((open + 1, close)));
    }
}

/// `triggered by @zufa33`: a mention. Not an e-mail (`a@b`), a scoped package (`@babel/core`),
/// an annotation's dotted path or one of our tokens.
fn mentions(line: &[u8], classes: &Classes, hits: &mut Vec<Hit>) {
    for at in classes.ones(Class::At) {
        if at > 0 && !matches!(line[at - 1], b' ' | b'(' | b'"' | b'\'') {
            continue;
        }
        // `"@timestamp":` is a JSON key.
        let key = |b: usize| at > 0 && line[at - 1] == b'"' && line[b..].starts_with(b"\":");
        if let Some((a, b)) = name_at(line, at + 1)
            && b - a >= 3
            && !matches!(line.get(b), Some(b'/' | b'.' | b'@' | b'('))
            && !key(b)
            && !line[a..b].contains(&b'@')
            && !line[a..b].eq_ignore_ascii_case(b"here")
            && !line[a..b].eq_ignore_ascii_case(b"channel")
            && !line[a..b].eq_ignore_ascii_case(b"everyone")
            // `@Override`, `@Autowired`: an annotation; `@0x7fed806eb5d`: an address.
            && !(line[a].is_ascii_uppercase() && line[a + 1].is_ascii_lowercase())
            && line[a].is_ascii_alphabetic()
        {
            user(hits, Some((a, b)));
        }
    }
}

/// Windows' `Account Name:`, `User Name:`, `Logon Name:` fields, values after tabs or blanks.
fn account_name(line: &[u8], name: usize, colon_end: usize, hits: &mut Vec<Hit>) {
    let before = line[..name].trim_ascii_end();
    let named = [&b"account"[..], b"user", b"logon", b"target user"]
        .iter()
        .any(|w| {
            before.len() >= w.len() && before[before.len() - w.len()..].eq_ignore_ascii_case(w)
        });
    if named && name > before.len() {
        let v = skip_blanks(line, colon_end);
        // `CORP\name` is the domain rule's.
        if let Some((a, b)) =
            name_at(line, v).filter(|&(a, b)| line[a..b] != *b"-" && line.get(b) != Some(&b'\\'))
        {
            user(hits, Some((a, b)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(line: &str) -> Vec<&str> {
        crate::scrub::spans(line, find)
    }

    #[test]
    fn names_in_su_sudo_cron_and_windows_phrases() {
        assert_eq!(
            found("session opened for user root by hx3(uid=1994)"),
            ["hx3"]
        );
        assert_eq!(found("Successful su for root by poho_ct3"), ["poho_ct3"]);
        assert_eq!(
            found("sudo:     diva_hk3 : TTY=pts/0 ; PWD=/x"),
            ["diva_hk3"]
        );
        assert_eq!(
            found("CRON[6805]: (mjijm9) CMD (/usr/bin/php x)"),
            ["mjijm9"]
        );
        assert_eq!(found(r"Account Name: CORP\kjakx1 Failure"), ["kjakx1"]);
        assert_eq!(found("user tybql0 logged in via gdm"), ["tybql0"]);
        assert_eq!(found("auth succeeded for username 'mujezo'"), ["mujezo"]);
        assert_eq!(found("INFO gebruiker jov3ehe is ingelogd"), ["jov3ehe"]);
        assert_eq!(
            found("SAP SM21: User kahe46 locked due to logon"),
            ["kahe46"]
        );
        assert_eq!(found("Benutzer ffarexu wurde gesperrt"), ["ffarexu"]);
        assert_eq!(found("GlobalProtect User name: sogi32 from"), ["sogi32"]);
        assert_eq!(found("workflow triggered by @zufa33"), ["zufa33"]);
        assert_eq!(found("\tAccount Name:\t\tdeba5ve"), ["deba5ve"]);
        assert_eq!(
            found("from '\"Jan de Vries\" <sip:jdv@pbx.local>'"),
            ["Jan de Vries"]
        );
        assert_eq!(
            found("web01 sudo[2181]:    noahm : TTY=pts/9 ; PWD=/x"),
            ["noahm"]
        );
        assert_eq!(
            found("192.0.2.7 - orossi [23/Mar/2024:09:12:11 +0000] \"GET / HTTP/1.1\" 200"),
            ["orossi"]
        );
        assert_eq!(
            found("<user><login>a.devries</login><Username>bx7</Username>"),
            ["a.devries", "bx7"]
        );
        assert_eq!(found("<wsse:Username>f.vries</wsse:Username>"), ["f.vries"]);
        assert_eq!(
            found("ssh: noor.smith@172.24.129.90: denied"),
            ["noor.smith"]
        );
        assert_eq!(found("<sip:l.wagner@172.24.171.250:5060>"), ["l.wagner"]);
        assert!(found("Started HttpServer2$Connector@0.0.0.0:62267").is_empty());
        assert!(found("at msra-sa-41/10.190.173.170:8030 ok").is_empty());
        assert_eq!(
            found("svc_billing@CORP for HTTP/erp23.ad.example@CORP"),
            ["svc_billing"]
        );
        assert_eq!(
            found("arn:aws:iam::322302752051:user/h_girard\","),
            ["h_girard"]
        );
        assert_eq!(found("auth: passwd-file(cdek,fe80::1): mismatch"), ["cdek"]);
        assert_eq!(found("user [CORP]\\[a.dubois] at"), ["a.dubois"]);
        assert_eq!(found("Database=Crm;User Id=lot14;Password=x"), ["lot14"]);
        assert_eq!(found("+ docker login -u l.wilson -p x reg"), ["l.wilson"]);
        assert_eq!(found("$ mysql -h db -u app_rw -p shop"), ["app_rw"]);
        assert_eq!(found("AH01618: user kdevr not found: /admin"), ["kdevr"]);
        assert_eq!(found("Gebruiker jdv12 heeft ingelogd"), ["jdv12"]);
        assert_eq!(
            found("El usuario mgarcia inici\u{f3} sesi\u{f3}n"),
            ["mgarcia"]
        );
        assert_eq!(
            found("GET http://x/a.csv amw HIER_DIRECT/10.0.0.1 text"),
            ["amw"]
        );
        assert_eq!(
            found("Authentication of [wag551] failed; authenticate user [kim3]"),
            ["wag551", "kim3"]
        );
    }

    #[test]
    fn other_uses_of_the_same_words_stay() {
        for line in [
            "Connection closed by 10.0.0.1 port 22",
            "closed by authenticating user x",
            "written by the kernel",
            "time: 12 : 30",
            r"C:\Windows\system32",
            "user not found",
            "gebruiker niet gevonden",
            "npm i @babel/core and @Override and @here",
            "called (stack @0x7fed806eb5d @0x7fef9fb9b6d)",
            "data store interrupt caused by parity",
            r"from path '\\?\GLOBALROOT\Device\HarddiskVolume2'",
            "username must be set",
            "\"Example\" <no address>",
        ] {
            assert!(found(line).is_empty(), "{line}: {:?}", found(line));
        }
    }
}
