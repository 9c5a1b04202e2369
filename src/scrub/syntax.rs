//! Secrets written in syntaxes other than `key=value`, found where a secret word meets a blank,
//! a `>` or a command's short flag:
//! - flags: `--password X`, `--db-token 'X'`, `mysql -pX`, `sshpass -p X`, `redis-cli -a X`;
//! - SQL: `IDENTIFIED BY 'X'`, `WITH PASSWORD 'X'`;
//! - prose: `password is X`, `password was set to X`, `use token X` (a value shaped like a
//!   credential, or one after a verb);
//! - XML: `<password>X</password>`, `<add key="Password" value="X"/>`.

use memchr::memmem;

use super::classes::{Class, Classes};
use super::keywords::is_ident;
use super::values::{push, shell_word, skip_blanks, value_at};
use super::vocabulary::{EXACT_SECRET_KEYS, SECRET_KEYS};
use super::{Detector, Hit, Label, eq_fold, is_token, is_word};

/// Bytes an identifier is made of (`db-password`, `api_key`, `--token`).
/// Whether an identifier names a secret: a secret word anywhere in it (`db_password`), or a
/// short secret key as its last word (`--pwd`). Case-insensitive, without allocating.
pub(super) fn is_secret_key(ident: &[u8]) -> bool {
    let contains = |k: &[u8]| ident.windows(k.len()).any(|w| eq_fold(w, k));
    SECRET_KEYS.iter().any(|k| contains(k.as_bytes()))
        || EXACT_SECRET_KEYS.iter().any(|k| {
            let k = k.as_bytes();
            ident.len() >= k.len()
                && eq_fold(&ident[ident.len() - k.len()..], k)
                && (ident.len() == k.len()
                    || !ident[ident.len() - k.len() - 1].is_ascii_alphanumeric())
        })
}

/// Whether an identifier ends like a secret word (`…word`, `…wd`, `…ret`, `…ken`, `…key`, …),
/// plural or not: a table look at its last three bytes before the full check.
fn ends_in_secret_word(ident: &[u8]) -> bool {
    let ident = ident
        .strip_suffix(b"s")
        .filter(|i| i.len() >= 3)
        .unwrap_or(ident);
    let Some(tail) = ident
        .get(ident.len().saturating_sub(3)..)
        .filter(|t| t.len() == 3)
    else {
        return false;
    };
    let tail = [tail[0] | 0x20, tail[1] | 0x20, tail[2] | 0x20];
    const TAILS: [&[u8; 3]; 15] = [
        b"ord", b"swd", b"ase", b"ret", b"ken", b"key", b"ial", b"_id", b"nid", b"-id", b"ure",
        b"pwd", b"ass", b"otp", b"ity",
    ];
    TAILS.contains(&&tail) || tail[1..] == *b"ig" || tail[1..] == *b"id"
}

/// Last letters of the words this module starts from (`password`, `secret`, `token`, `key`,
/// `credential`, `pass`, `identified`), lower-cased.
fn ends_a_trigger(b: u8) -> bool {
    matches!(b | 0x20, b'd' | b'e' | b't' | b'y' | b'l' | b's' | b'n')
}

/// Adds a secret hit for every value these syntaxes give in `line`.
#[inline(never)]
pub(super) fn find(line: &[u8], classes: &Classes, hits: &mut Vec<Hit>) {
    for p in classes.ones_after(Class::Space, Class::Word) {
        if matches!(p, 10 | 11) && redis_directive(line, p, hits) {
            continue;
        }
        if p >= 4 && &line[p - 4..p] == b"AUTH" && (p == 4 || line[p - 5] == b' ') {
            auth_command(line, p + 1, hits);
            continue;
        }
        // Redis' directives in a message (`asks for synchronization; masterauth X`), and
        // credentials after `basic auth` (`basic auth NAME:PASS rejected`).
        if p >= 10 && matches!(line[p - 1] | 0x20, b's' | b'h') {
            let word_start = line[..p]
                .iter()
                .rposition(|b| !b.is_ascii_alphabetic())
                .map_or(0, |i| i + 1);
            let word = &line[word_start..p];
            if eq_fold(word, b"requirepass") || eq_fold(word, b"masterauth") {
                secret(hits, value_at(line, p + 1));
                continue;
            }
            if eq_fold(word, b"auth")
                && word_start >= 6
                && eq_fold(&line[word_start - 6..word_start], b"basic ")
                && let Some((a, b)) = value_at(line, p + 1)
                && let Some(colon) = memchr::memchr(b':', &line[a..b])
            {
                push(hits, a, a + colon, Detector::UserName, Label::UserName);
                secret(hits, Some((a + colon + 1, b)));
                continue;
            }
        }
        if ends_a_trigger(line[p - 1])
            && (ends_in_secret_word(&line[p.saturating_sub(12)..p])
                || (p >= 10 && line[p - 10..p].eq_ignore_ascii_case(b"identified")))
        {
            after_word(line, p, hits);
        }
    }
    for d in classes.ones(Class::Dash) {
        if matches!(line.get(d + 1), Some(b'p' | b'a')) && (d == 0 || line[d - 1] == b' ') {
            short_flag(line, d, hits);
        }
        // PowerShell's `ConvertTo-SecureString 'X' -AsPlainText`: X is a password.
        if d >= 9
            && line[d + 1..].starts_with(b"SecureString ")
            && line[..d].ends_with(b"ConvertTo")
        {
            secret(hits, value_at(line, skip_blanks(line, d + 14)));
        }
    }
    if classes.any(Class::Lt) {
        xml(line, hits);
    }
    // Redis MONITOR's quoted form: `"AUTH" "user" "X"`.
    if let Some(m) = classes
        .ones(Class::Upper)
        .find(|&u| u > 0 && line[u - 1] == b'"' && line[u..].starts_with(b"AUTH\" "))
        .map(|u| u - 1)
    {
        auth_command(line, m + 7, hits);
        // With two arguments the first is the user.
        if let Some((a, b)) = shell_word(line, m + 7)
            && (line[b..].starts_with(b"\" \"") || line[b..].starts_with(b" \""))
        {
            let quoted = line[a] == b'"';
            push(
                hits,
                a + usize::from(quoted),
                b - usize::from(quoted && line[b - 1] == b'"'),
                Detector::UserName,
                Label::UserName,
            );
        }
    }
    for t in classes.ones(Class::Tab) {
        tab_field(line, t, hits);
    }
    // Quoted flags (`"--password"`) and secret-named functions (`PASSWORD('X')`).
    if classes
        .ones(Class::Dash)
        .any(|d| d > 0 && line[d - 1] == b'"')
    {
        quoted_flags(line, hits);
    }
    for q in classes
        .ones(Class::Paren)
        .filter(|&q| line.get(q + 1) == Some(&b'\''))
    {
        let mut j = q;
        while j > 0 && is_ident(line[j - 1]) {
            j -= 1;
        }
        if is_secret_key(&line[j..q]) {
            secret(hits, value_at(line, q + 1));
        }
    }
}

/// Redis' `requirepass X` and `masterauth X` starting a line: the rest of it is the password.
fn redis_directive(line: &[u8], p: usize, hits: &mut Vec<Hit>) -> bool {
    let word = &line[..p];
    if !(eq_fold(word, b"requirepass") || eq_fold(word, b"masterauth")) {
        return false;
    }
    let v = skip_blanks(line, p);
    let end = v + line[v..].trim_ascii_end().len();
    secret(hits, Some((v, end)).filter(|&(a, b)| b > a));
    true
}

/// `password<TAB>X`: a tab-separated record whose field names a secret; the next field is it.
fn tab_field(line: &[u8], t: usize, hits: &mut Vec<Hit>) {
    let start = memchr::memrchr(b'\t', &line[..t]).map_or(0, |p| p + 1);
    let name = line[start..t].trim_ascii();
    if name.is_empty()
        || name.len() > 40
        || !name.iter().all(|&b| is_ident(b))
        || !is_secret_key(name)
    {
        return;
    }
    let end = memchr::memchr(b'\t', &line[t + 1..]).map_or(line.len(), |p| t + 1 + p);
    let (a, b) = (t + 1, t + 1 + line[t + 1..end].trim_ascii_end().len());
    if b > a && !is_token(&line[a..b]) {
        secret(hits, Some((a, b)));
    }
}

/// Command lines written as quoted arguments (auditd's `a3="--password" a4="X"`, a JSON array
/// `["mongosh", "-p", "X"]`): a secret flag's argument is the next quoted string.
fn quoted_flags(line: &[u8], hits: &mut Vec<Hit>) {
    for q in finder!(b"\"-").find_iter(line) {
        let a = q + 1;
        let Some(close) = memchr::memchr(b'"', &line[a..]).map(|c| a + c) else {
            continue;
        };
        let flag = &line[a..close];
        let short_password = flag == b"-p"
            && [&b"mysql"[..], b"mariadb", b"mongo", b"sshpass"]
                .iter()
                .any(|c| memmem::find(line, c).is_some());
        if !(flag.starts_with(b"--") && is_secret_key(flag) || short_password) {
            continue;
        }
        let Some(open) = memchr::memchr(b'"', &line[close + 1..line.len().min(close + 16)])
            .map(|o| close + 1 + o)
        else {
            continue;
        };
        secret(
            hits,
            value_at(line, open).filter(|&(x, y)| !line[x..y].starts_with(b"-")),
        );
    }
}

fn secret(hits: &mut Vec<Hit>, span: Option<(usize, usize)>) {
    if let Some((a, b)) = span.filter(|&(a, b)| b > a) {
        push(hits, a, b, Detector::Secret, Label::Secret);
    }
}

/// The identifier that ends at the blank at `p`, and what follows it.
fn after_word(line: &[u8], p: usize, hits: &mut Vec<Hit>) {
    let mut j = p;
    while j > 0 && is_ident(line[j - 1]) {
        j -= 1;
    }
    let ident = &line[j..p];
    if ident.len() < 3 || (j > 0 && matches!(line[j - 1], b'[' | b':')) {
        return;
    }
    let v = skip_blanks(line, p);
    if ident.eq_ignore_ascii_case(b"identified") {
        let by = line.len() >= v + 3
            && line[v..v + 2].eq_ignore_ascii_case(b"by")
            && line[v + 2] == b' ';
        if by {
            secret(hits, value_at(line, skip_blanks(line, v + 3)));
        }
        return;
    }
    if ident.eq_ignore_ascii_case(b"key") {
        // `using key 11730e835d…`: a bare key, when it is long and shaped like one.
        if let Some((a, b)) = value_at(line, v)
            && b - a >= 20
            && credential_shaped(&line[a..b])
            && memchr::memchr2(b'\\', b'/', &line[a..b]).is_none()
        {
            secret(hits, Some((a, b)));
        }
        return;
    }
    if !ends_in_secret_word(ident) || !is_secret_key(ident) {
        return;
    }
    if ident.starts_with(b"-") {
        // A flag: its argument, unless that is the next flag.
        if line.get(v).is_some_and(|&b| b != b'-') {
            secret(
                hits,
                shell_word(line, v).filter(|&(a, b)| !is_token(&line[a..b])),
            );
        }
        return;
    }
    prose(line, v, hits);
}

/// After a secret word and a blank at `v`: `is X`, `was set to X`, `'X'`, or a credential.
fn prose(line: &[u8], mut v: usize, hits: &mut Vec<Hit>) {
    const VERBS: [&[u8]; 9] = [
        b"now ",
        b"is ",
        b"was ",
        b"set to ",
        b"changed to ",
        b"reset to ",
        b"to ",
        b"of ",
        b"= ",
    ];
    let mut verb = false;
    // `password for admin was set to X`: a verb a few words on.
    const LATER: [&[u8]; 14] = [
        b" set to ",
        b" changed to ",
        b" reset to ",
        b" is ",
        b" was ",
        b" now ",
        b": ",
        b" naar ",
        b" gewijzigd in ",
        b" ingesteld op ",
        b" auf ",
        b" zu ",
        b" chang\xc3\xa9 en ",
        b" modifi\xc3\xa9 en ",
    ];
    let window = &line[v..line.len().min(v + 48)];
    // A colon only over plain words (`password for the new hire: X`), not over a printed
    // object (`token Token{2d16dfd kind: X}`), nor after one word that names another field
    // (`Signature Algorithm: X`, `Password Policy: X`), unless that word is `value`.
    let words_only = |i: usize| {
        let over = &window[..i];
        over.iter()
            .all(|b| b.is_ascii_alphabetic() || *b == b' ' || *b >= 0x80)
            && (over.contains(&b' ') || eq_fold(over, b"value"))
    };
    // Every later word starts with a blank or a colon: one walk over those finds the first.
    let later = window
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b' ' || b == b':')
        .find_map(|(i, _)| {
            LATER
                .iter()
                .find(|w| {
                    w.get(1) == window.get(i + 1)
                        && window[i..].starts_with(w)
                        && (**w != b": " || words_only(i))
                })
                .map(|w| v + i + w.len())
        });
    if let Some(at) = later {
        verb = true;
        v = skip_blanks(line, at);
    }
    loop {
        let rest = &line[v..];
        let Some(w) = VERBS
            .iter()
            .find(|w| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w))
        else {
            break;
        };
        verb = true;
        v = skip_blanks(line, v + w.len());
    }
    // Cisco's `secret 5 $1$…` and `password 7 0822…`: a type digit, then the value.
    if line.get(v).is_some_and(u8::is_ascii_digit) && line.get(v + 1) == Some(&b' ') {
        v = skip_blanks(line, v + 1);
        verb = true;
    }
    let Some(&first) = line.get(v) else {
        return;
    };
    if matches!(first, b'"' | b'\'' | b'`') {
        secret(hits, value_at(line, v));
        return;
    }
    let Some((a, b)) = value_at(line, v) else {
        return;
    };
    let word = &line[a..b];
    // `client_credentials scope=openid`: the next field, not a value of this one.
    if !verb && memchr::memchr(b'=', &word[..word.len().saturating_sub(2)]).is_some() {
        return;
    }
    // `token Token{2d16dfd kind: …}` is an object printed, not a credential.
    let printed = !verb && word.iter().any(|&c| matches!(c, b'{' | b'(' | b'['));
    if printed {
        return;
    }
    if credential_shaped(word)
        || (verb && !STOP_WORDS.iter().any(|s| s.eq_ignore_ascii_case(word)) && word.len() >= 4)
    {
        secret(hits, Some((a, b)));
    }
}

/// Words that follow `password is` in messages about a password, not in a password.
const STOP_WORDS: &[&[u8]] = &[
    b"incorrect",
    b"invalid",
    b"expired",
    b"required",
    b"missing",
    b"empty",
    b"wrong",
    b"correct",
    b"valid",
    b"accepted",
    b"rejected",
    b"changed",
    b"reset",
    b"updated",
    b"set",
    b"not",
    b"too",
    b"being",
    b"now",
    b"null",
    b"none",
    b"unset",
    b"blank",
    b"weak",
    b"strong",
    b"locked",
    b"disabled",
    b"enabled",
    b"about",
    b"still",
    b"also",
    b"only",
    b"going",
    b"the",
    b"from",
    b"for",
    b"with",
    b"and",
    b"that",
    b"this",
    b"user",
    b"your",
    b"their",
];

/// A word that looks like a credential rather than a word of prose: at least six bytes, with
/// letters and digits or symbols mixed in, or upper case after lower case.
pub(super) fn credential_shaped(word: &[u8]) -> bool {
    if word.len() < 6 || is_token(word) {
        return false;
    }
    let letters = word.iter().filter(|b| b.is_ascii_alphabetic()).count();
    let digits = word.iter().filter(|b| b.is_ascii_digit()).count();
    let symbols = word
        .iter()
        .filter(|&&b| !b.is_ascii_alphanumeric() && !matches!(b, b'_' | b'-' | b'.' | b'/'))
        .count();
    let camel = word
        .windows(2)
        .filter(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
        .count();
    (letters > 0 && (digits > 0 || symbols > 0)) || camel >= 2 || (symbols > 0 && digits > 0)
}

/// Redis' `AUTH [user] X` and SMTP's `AUTH PLAIN <base64>`: the credential after the command
/// (and after a SASL mechanism's name).
fn auth_command(line: &[u8], v: usize, hits: &mut Vec<Hit>) {
    const MECHANISMS: [&[u8]; 6] = [
        b"PLAIN",
        b"LOGIN",
        b"XOAUTH2",
        b"CRAM-MD5",
        b"DIGEST-MD5",
        b"OAUTHBEARER",
    ];
    let Some((a, b)) = shell_word(line, v) else {
        return;
    };
    if MECHANISMS
        .iter()
        .any(|m| line[a..b].eq_ignore_ascii_case(m))
    {
        secret(hits, shell_word(line, b).filter(|&(x, y)| y - x >= 4));
    } else {
        // `AUTH user password`: the last word is the password.
        let (a, b) = shell_word(line, b)
            .filter(|&(x, _)| x == b + 1)
            .unwrap_or((a, b));
        secret(hits, Some((a, b)).filter(|&(x, y)| !is_token(&line[x..y])));
    }
}

/// `-p…`/`-a …` at `d`, on the command lines that take a password there.
fn short_flag(line: &[u8], d: usize, hits: &mut Vec<Hit>) {
    let before = &line[..d];
    let has = |cmd: &[u8]| memmem::find(before, cmd).is_some();
    match line[d + 1] {
        // `mysql -pSECRET` (attached: `-p SECRET` prompts, and SECRET is the database).
        b'p' if line.get(d + 2).is_some_and(|&b| !b.is_ascii_whitespace())
            && (has(b"mysql") || has(b"mariadb") || has(b"mongo")) =>
        {
            secret(hits, shell_word(line, d + 2));
        }
        // `sshpass -p X`, `mongosh -p X`, `docker login -p X` (and podman's, helm's).
        b'p' if line.get(d + 2) == Some(&b' ')
            && (has(b"sshpass") || has(b"mongo") || has(b" login")) =>
        {
            secret(hits, shell_word(line, d + 3));
        }
        b'a' if line.get(d + 2) == Some(&b' ') && has(b"redis-cli") => {
            secret(hits, shell_word(line, d + 3));
        }
        _ => {}
    }
}

/// `<password>X</password>`, and `key="Password" value="X"` attribute pairs.
fn xml(line: &[u8], hits: &mut Vec<Hit>) {
    for lt in memchr::memchr_iter(b'<', line) {
        let mut j = lt + 1;
        while j < line.len() && (is_ident(line[j]) || line[j] == b':') {
            j += 1;
        }
        // A namespaced element by its local name, its attributes skipped
        // (`<wsse:Password Type="#PasswordText">X</wsse:Password>`).
        let name = &line[lt + 1..j];
        let name = name.rsplit(|&b| b == b':').next().unwrap_or(name);
        if line.get(j) == Some(&b' ')
            && !name.is_empty()
            && is_secret_key(name)
            && let Some(close) = memchr::memchr(b'>', &line[j..]).map(|c| j + c)
            && !line[j..close].contains(&b'<')
            && line[close - 1] != b'/'
        {
            j = close;
        }
        if line.get(j) == Some(&b'>') && !name.is_empty() && is_secret_key(name) {
            let end = memchr::memchr(b'<', &line[j + 1..]).map_or(line.len(), |e| j + 1 + e);
            let a = skip_blanks(line, j + 1);
            let b = a + line[a..end].trim_ascii_end().len();
            if !is_token(&line[a..b]) {
                secret(hits, Some((a, b)));
            }
        }
    }
    for attr in [&b"key=\""[..], b"name=\""] {
        for k in memmem::find_iter(line, attr) {
            if k > 0 && is_word(line[k - 1]) {
                continue;
            }
            let a = k + attr.len();
            let Some(close) = memchr::memchr(b'"', &line[a..]).map(|c| a + c) else {
                continue;
            };
            if !is_secret_key(&line[a..close]) {
                continue;
            }
            let window = &line[close..line.len().min(close + 40)];
            if let Some(v) = memmem::find(window, b"value=\"") {
                secret(hits, value_at(line, close + v + 6));
            }
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
    fn flags_sql_prose_and_xml_give_their_values() {
        assert_eq!(found("run --db-password 'a b#c' --port 5"), ["'a b#c'"]);
        assert_eq!(found("mysql -uroot -pS3#cr&t db"), ["S3#cr&t"]);
        assert_eq!(found("sshpass -p x9!k ssh host"), ["x9!k"]);
        assert_eq!(found("redis-cli -h h -a 'p@ss w' ping"), ["'p@ss w'"]);
        assert_eq!(
            found("CREATE USER 'u' IDENTIFIED BY 'Tr0ub4dor&3';"),
            ["Tr0ub4dor&3"]
        );
        assert_eq!(found("ALTER ROLE x WITH PASSWORD 'k#9'"), ["k#9"]);
        assert_eq!(found("the password is hunter22."), ["hunter22"]);
        assert_eq!(found("password for admin was set to Qx7-pl"), ["Qx7-pl"]);
        assert_eq!(found("use token 9fG2kLmq then"), ["9fG2kLmq"]);
        assert_eq!(
            found("<user>bob</user><password> a&b#c </password>"),
            ["a&b#c"]
        );
        assert_eq!(
            found(r#"<add key="DbPassword" value="p4ss w0rd"/>"#),
            ["p4ss w0rd"]
        );
        assert_eq!(
            found("SET PASSWORD FOR 'r'@'h' = PASSWORD('nWj#cP8')"),
            ["nWj#cP8"]
        );
        assert_eq!(found("auth\tpassword\tdGy4 rWb\tresult=fail"), ["dGy4 rWb"]);
        assert_eq!(
            found(r#"a2="backup" a3="--password" a4="Rore22""#),
            ["Rore22"]
        );
        assert_eq!(found(r#"["mongosh", "-p", "0uocm"]"#), ["0uocm"]);
        assert_eq!(found("reset done, passphrase now Bogo5240"), ["Bogo5240"]);
        assert_eq!(found("redis-cli -h cache AUTH ctEq8oB7"), ["ctEq8oB7"]);
        assert_eq!(
            found("C: AUTH PLAIN AGJvYgBzM2NyZXQ="),
            ["AGJvYgBzM2NyZXQ="]
        );
        assert_eq!(
            found("docker login -u ci -p .ArQE+o9 registry"),
            [".ArQE+o9"]
        );
        assert_eq!(
            found("request failed using key 11730e835d10217241e499e8c55cc91f"),
            ["11730e835d10217241e499e8c55cc91f"]
        );
        assert_eq!(
            found("Tijdelijk wachtwoord voor medewerker: jESOvlQ5b"),
            ["jESOvlQ5b"]
        );
        assert_eq!(
            found("wachtwoord gewijzigd naar \"X8d+7z;\" ok"),
            ["X8d+7z;"]
        );
        assert_eq!(
            found("masterauth +)k]j,[B))w%{3c=V[!"),
            ["+)k]j,[B))w%{3c=V[!"]
        );
        assert_eq!(
            found("<wsse:Password Type=\"#PasswordText\">!~^d4D8w</wsse:Password>"),
            ["!~^d4D8w"]
        );
        assert_eq!(
            found("[0 10.0.0.1:9200] \"AUTH\" \"j.becker\" \"q~ifM&;[-O1\""),
            ["j.becker", "\"q~ifM&;[-O1\""]
        );
    }

    #[test]
    fn messages_about_passwords_and_other_flags_stay() {
        for line in [
            "Failed password for invalid user bob from 10.0.0.1",
            "password is incorrect",
            "token expired after 3600 seconds",
            "mysql -p",
            "ssh -p 2222 host",
            "ls -a /tmp",
            "--password --verbose",
            "session token refresh scheduled",
            "AUTH LOGIN",
            "the key to success is here",
            "Signature Algorithm: sha256WithRSAEncryption",
            "Password Policy: complex",
        ] {
            assert!(found(line).is_empty(), "{line}: {:?}", found(line));
        }
    }
}
