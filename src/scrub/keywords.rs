//! Where keys, token prefixes and phrases stand, found by cheap triggers rather than one
//! automaton over every byte:
//! - each `=` and `:` (`memchr2`): the identifier before it holds a secret key anywhere
//!   (`DB_PASSWORD`), ends in an exact key as a whole word (`pwd`, `uid`), or names
//!   `Authorization` or a cookie header; `://` starts URL credentials;
//! - each space: the phrase that ends there (`invalid user`, `password for`, `Bearer`, curl's
//!   `-u`);
//! - token prefixes (`AKIA`, `ghp_`, `eyJ`), case-sensitive, with a SIMD multi-literal search;
//! - rare literals by `memmem`/`memchr`: chat webhook paths, `Q~`, `service_account`.
//!
//! The value readers in [`super::values`] then take the credential or user name.

use aho_corasick::AhoCorasick;
use memchr::memmem;

use super::classes::{Class, Classes};
use super::values::{
    azure, cookie_values, inside_token, is_count, key_value, object_id, past_scheme, person_name,
    phrase_user, prefixed, push, service_account, shell_word, skip_blanks, url_credentials,
    user_like, value_at,
};
use super::vocabulary::{
    EXACT_SECRET_KEYS, EXACT_USER_ID_KEYS, HOLDER_WORDS, HOST_KEYS, PERSON_KEYS, PERSON_OBJECTS,
    PREFIXES, SCHEMES, SECRET_KEYS, SLACK_WEBHOOK, USER_ID_KEYS, USER_KEYS, USER_PHRASES,
    WEBHOOK_HOSTS, WEBHOOK_PATH,
};
use super::{Detector, Hit, Label, eq_fold, is_word};

/// What an identifier before `=` or `:` can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    /// A secret key, anywhere in the identifier (`client_secret`).
    Secret,
    /// A short secret key, as the identifier's last word (`pwd`, `sig`).
    ExactSecret,
    /// `Authorization`, `Proxy-Authorization`: an optional scheme word, then the credential.
    Authorization,
    /// `Cookie`, `Set-Cookie`: every cookie value.
    Cookie,
    /// A key whose value is a user name, as the identifier's last word (`user`, `uid`).
    User,
    /// A key whose value identifies a user (`user_id`, `customerId`, `sub`).
    UserId,
    /// A key whose value is a machine's name (`hostname=`): a single-label name (dotted ones
    /// are [`super::hosts`]'s, which knows the kept domains).
    Host,
    /// A generic key (`name`, `naam`) whose value is a person's name when written as one.
    Person,
    /// HTTP Digest's `response`: a secret when it is a hash (16+ hex digits).
    DigestResponse,
    /// `APP_KEY`, `stripeKey`: a secret when the value is long and shaped like one (a cache
    /// or sort key is a word).
    Long,
}

/// Bytes an identifier before a separator is made of (`db.password`, `api-key`).
pub(super) fn is_ident(b: u8) -> bool {
    static IDENT: [bool; 256] =
        byte_table!(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    IDENT[usize::from(b)]
}

/// A letter's index 0..26 (either case), 26 for anything else.
fn letter(b: u8) -> usize {
    let l = (b | 0x20).wrapping_sub(b'a');
    if l < 26 { usize::from(l) } else { 26 }
}

fn ends_with_ignore_case(hay: &[u8], tail: &[u8]) -> bool {
    hay.len() >= tail.len() && eq_fold(&hay[hay.len() - tail.len()..], tail)
}

/// The compiled triggers for the enabled detectors.
pub(super) struct Keywords {
    secret: bool,
    url: bool,
    user: bool,
    /// Keys matched anywhere in an identifier (lower case).
    contained: Vec<(&'static [u8], Key)>,
    /// For each pair of letters, the `contained` keys that start with it (bit i: key i).
    pairs: Vec<u64>,
    /// Keys matched as an identifier's last word (lower case).
    exact: Vec<(&'static [u8], Key)>,
    /// For each last letter, the `exact` keys that end with it (bit i: key i).
    last_letters: [u128; 27],
    /// Token prefixes, case-sensitive; `None` when secrets are off.
    prefixes: Option<Prefixes>,
    hooks: memmem::Finder<'static>,
    service_account: memmem::Finder<'static>,
    /// The policy's kept domains (lower case), for the names after host keys.
    keep: Vec<Vec<u8>>,
}

impl Keywords {
    pub(super) fn new(on: &[bool; Detector::COUNT], keep: &[Vec<u8>]) -> Keywords {
        let secret = on[Detector::Secret.index()];
        let user = on[Detector::UserName.index()];
        let mut contained: Vec<(&'static [u8], Key)> = Vec::new();
        let mut exact: Vec<(&'static [u8], Key)> = Vec::new();
        if secret {
            contained.extend(SECRET_KEYS.iter().map(|k| (k.as_bytes(), Key::Secret)));
            contained.push((b"authorization", Key::Authorization));
            contained.push((b"cookie", Key::Cookie));
            exact.extend(
                EXACT_SECRET_KEYS
                    .iter()
                    .map(|k| (k.as_bytes(), Key::ExactSecret)),
            );
            exact.push((b"response", Key::DigestResponse));
            exact.push((b"key", Key::Long));
        }
        if user {
            exact.extend(USER_KEYS.iter().map(|k| (k.as_bytes(), Key::User)));
            exact.extend(PERSON_KEYS.iter().map(|k| (k.as_bytes(), Key::Person)));
        }
        if on[Detector::UserId.index()] {
            exact.extend(
                USER_ID_KEYS
                    .iter()
                    .chain(EXACT_USER_ID_KEYS)
                    .map(|k| (k.as_bytes(), Key::UserId)),
            );
        }
        if on[Detector::Hostname.index()] {
            exact.extend(HOST_KEYS.iter().map(|k| (k.as_bytes(), Key::Host)));
        }
        assert!(contained.len() <= 64, "one bit per contained key");
        let mut pairs = vec![0u64; 27 * 27];
        for (i, (k, _)) in contained.iter().enumerate() {
            pairs[letter(k[0]) * 27 + letter(k[1])] |= 1 << i;
        }
        assert!(exact.len() <= 128, "one bit per exact key");
        let mut last_letters = [0u128; 27];
        for (i, (k, _)) in exact.iter().enumerate() {
            last_letters[letter(k[k.len() - 1])] |= 1 << i;
        }
        let prefixes = secret.then(Prefixes::new);
        Keywords {
            secret,
            url: on[Detector::UrlCredentials.index()],
            user,
            contained,
            pairs,
            exact,
            last_letters,
            prefixes,
            hooks: memmem::Finder::new(b"hooks"),
            service_account: memmem::Finder::new(b"service_account"),
            keep: keep.to_vec(),
        }
    }

    #[inline(never)]
    pub(super) fn find(&self, line: &[u8], classes: &Classes, hits: &mut Vec<Hit>) {
        if !(self.secret
            || self.url
            || self.user
            || !self.contained.is_empty()
            || !self.exact.is_empty())
        {
            return;
        }
        for p in classes.ones(Class::Separator) {
            self.at_separator(line, p, hits);
        }
        if self.secret || self.user {
            for p in classes.ones_after(Class::Space, Class::PhraseEnd) {
                self.at_space(line, p, hits);
            }
        }
        if self.secret {
            self.rare_literals(line, classes, hits);
        }
    }

    /// A `=` or `:` at `p`: URL credentials after `://`, else the key before it.
    fn at_separator(&self, line: &[u8], p: usize, hits: &mut Vec<Hit>) {
        // Between two digits (`00:01:36`, `2024-01-01T10:00`) it joins a number, not a key.
        if p > 0 && line[p - 1].is_ascii_digit() && line.get(p + 1).is_some_and(u8::is_ascii_digit)
        {
            return;
        }
        if line[p] == b':' && line[p + 1..].starts_with(b"//") {
            if self.url && !inside_token(line, p) {
                url_credentials(line, p + 3, hits);
            }
            return;
        }
        let mut j = p;
        while j > 0 && matches!(line[j - 1], b' ' | b'\t') {
            j -= 1;
        }
        // `"key":`, and a form field's `user[password]=`.
        if j > 0 && matches!(line[j - 1], b'"' | b'\'' | b']') {
            j -= 1;
        }
        let end = j;
        while j > 0 && is_ident(line[j - 1]) {
            j -= 1;
        }
        let ident = &line[j..end];
        if ident.len() < 3 {
            return;
        }
        for w in 0..ident.len() - 1 {
            let mut keys = self.pairs[letter(ident[w]) * 27 + letter(ident[w + 1])];
            while keys != 0 {
                let (k, key) = self.contained[keys.trailing_zeros() as usize];
                keys &= keys - 1;
                if ident[w..].len() >= k.len() && eq_fold(&ident[w..w + k.len()], k) {
                    self.key(line, j + w, j + w + k.len(), key, hits);
                }
            }
        }
        let mut keys = self.last_letters[letter(ident[ident.len() - 1])];
        while keys != 0 {
            let (k, key) = self.exact[keys.trailing_zeros() as usize];
            keys &= keys - 1;
            if ends_with_ignore_case(ident, k) {
                let s = end - k.len();
                // A word boundary, or a camel-case one (`TargetUserName`).
                let camel =
                    s > 0 && line[s - 1].is_ascii_lowercase() && line[s].is_ascii_uppercase();
                if s == 0 || !line[s - 1].is_ascii_alphanumeric() || camel {
                    self.key(line, s, end, key, hits);
                }
            }
        }
        if self.secret
            && ident.eq_ignore_ascii_case(b"--user")
            && line[p] == b'='
            && j > 0
            && line[j - 1] == b' '
        {
            curl_user(line, p + 1, hits);
        }
    }

    /// The key `line[s..e]` found in an identifier: the value that goes with it.
    fn key(&self, line: &[u8], s: usize, e: usize, key: Key, hits: &mut Vec<Hit>) {
        if inside_token(line, s) {
            return;
        }
        // Dovecot's process titles (`imap-login: Disconnected`) are not `login:` keys.
        if key == Key::User
            && s > 0
            && line[s - 1] == b'-'
            && line[s..e].eq_ignore_ascii_case(b"login")
        {
            return;
        }
        let secret = |hits: &mut Vec<Hit>, span: Option<(usize, usize)>| {
            if let Some((a, b)) = span {
                push(hits, a, b, Detector::Secret, Label::Secret);
            }
        };
        if matches!(key, Key::User | Key::UserId)
            && let Some((a, b)) = object_id(line, e)
        {
            push(hits, a, b, Detector::UserName, Label::UserId);
            return;
        }
        match key {
            Key::Secret | Key::ExactSecret => {
                let v = key_value(line, s, e, key == Key::ExactSecret)
                    .and_then(|v| past_scheme(line, v));
                secret(
                    hits,
                    v.filter(|&(a, b)| {
                        !is_count(line, e, a, b)
                            && !is_setting(line, s, e, (a, b), key == Key::ExactSecret)
                    }),
                );
            }
            Key::Authorization => secret(
                hits,
                key_value(line, s, e, false).and_then(|v| past_scheme(line, v)),
            ),
            Key::Cookie => cookie_values(line, s, e, hits),
            Key::Long => secret(
                hits,
                key_value(line, s, e, true)
                    .and_then(|v| past_scheme(line, v))
                    .filter(|&(a, b)| {
                        let v = &line[a..b];
                        // A key has digits; an Objective-C selector (`key:atLOI:ofKind:`) none.
                        // A UUID after a `…_key` is an identifier (`idempotency_key`,
                        // `cache_key`); credentials sit under secret words.
                        b - a >= 16
                            && !is_uuid(v)
                            && super::syntax::credential_shaped(v)
                            && v.iter().any(u8::is_ascii_digit)
                    }),
            ),
            Key::DigestResponse => secret(
                hits,
                key_value(line, s, e, true)
                    .filter(|&(a, b)| b - a >= 16 && line[a..b].iter().all(u8::is_ascii_hexdigit)),
            ),
            Key::User => {
                // A value that is itself a field (`Login: user=<bob>`) is that field's.
                let field = |v: &[u8]| {
                    let n = v.iter().take_while(|&&b| is_ident(b)).count();
                    n > 0 && v.get(n) == Some(&b'=')
                };
                if let Some((a, b)) = key_value(line, s, e, true).filter(|&(a, b)| {
                    user_like(&line[a..b])
                        && !field(&line[a..b])
                        && !system_uid(line, s, e, &line[a..b])
                }) {
                    // A number after a user key is the account's id (`auid=1000`).
                    let label = if line[a..b].iter().all(u8::is_ascii_digit) {
                        Label::UserId
                    } else {
                        Label::UserName
                    };
                    push(hits, a, b, Detector::UserName, label);
                }
            }
            Key::Person => {
                let mut v = skip_blanks(line, e);
                if matches!(line.get(v), Some(b'"' | b'\'')) {
                    v += 1;
                }
                v = skip_blanks(line, v);
                if matches!(line.get(v), Some(b'=' | b':')) {
                    v = skip_blanks(line, v + 1);
                }
                if matches!(line.get(v), Some(b'"' | b'\'')) {
                    v += 1;
                }
                // `name` alone says nothing: only a person's object's `name` is one, or a
                // name whose key says whose (`cardHolderName`, `customer_name`).
                let generic = line[s..e].eq_ignore_ascii_case(b"name");
                let mut w = s;
                while w > 0 && (line[w - 1] == b'_' || line[w - 1].is_ascii_alphabetic()) {
                    w -= 1;
                }
                let whose = line[w..s].trim_ascii_end();
                let whose = whose.strip_suffix(b"_").unwrap_or(whose);
                let persons = PERSON_OBJECTS
                    .iter()
                    .any(|o| ends_with_ignore_case(whose, o.as_bytes()));
                if v > e
                    && (!generic || persons || in_person_object(line, s))
                    && let Some(end) = person_name(line, v)
                {
                    push(hits, v, end, Detector::UserName, Label::UserName);
                }
            }
            Key::Host => {
                if let Some((a, b)) = key_value(line, s, e, true)
                    .filter(|&(a, b)| super::hosts::single_label(&line[a..b], &self.keep))
                {
                    push(hits, a, b, Detector::Hostname, Label::Hostname);
                }
            }
            Key::UserId => {
                if let Some((a, b)) =
                    key_value(line, s, e, true).filter(|&(a, b)| user_like(&line[a..b]))
                {
                    push(hits, a, b, Detector::UserId, Label::UserId);
                }
            }
        }
    }

    /// A space at `p` after a [`Class::PhraseEnd`] byte (the only spaces `find` visits): the
    /// phrase that ends there, if any.
    fn at_space(&self, line: &[u8], p: usize, hits: &mut Vec<Hit>) {
        let before = &line[..p];
        // Every phrase ends in one of these words: one look at the last word spares the rest.
        let phrase_word = [
            &b"user"[..],
            b"for",
            b"as",
            b"benutzer",
            b"utilisateur",
            b"gebruiker",
        ]
        .iter()
        .any(|w| ends_with_ignore_case(before, w));
        if self.user
            && matches!(before.last().map(|b| b | 0x20), Some(b'r'))
            && HOLDER_WORDS
                .iter()
                .any(|w| ends_with_ignore_case(before, w.as_bytes()))
            && let Some(end) = person_name(line, p + 1)
        {
            push(hits, p + 1, end, Detector::UserName, Label::UserName);
        }
        if self.user && phrase_word {
            for phrase in USER_PHRASES {
                let phrase = &phrase.as_bytes()[..phrase.len() - 1];
                if ends_with_ignore_case(before, phrase)
                    && !inside_token(line, p - phrase.len())
                    && let Some((a, b)) = phrase_user(line, p + 1)
                {
                    push(hits, a, b, Detector::UserName, Label::UserName);
                }
            }
        }
        if !self.secret {
            return;
        }
        if ends_with_ignore_case(before, b"bearer") && !inside_token(line, p - 6) {
            // `Bearer realm="api"` is a challenge's parameters, and `Bearer expires_in=300` the
            // next field, not a token (base64 padding `=` ends a token).
            if let Some((a, b)) = value_at(line, p + 1).filter(|&(a, b)| {
                let v = &line[a..b];
                b - a >= 8
                    && memchr::memchr(
                        b'=',
                        v.trim_ascii_end()
                            .strip_suffix(b"==")
                            .or(v.strip_suffix(b"="))
                            .unwrap_or(v),
                    )
                    .is_none()
            }) {
                push(hits, a, b, Detector::Secret, Label::Secret);
            }
        } else if ends_with_ignore_case(before, b" -u") || ends_with_ignore_case(before, b" --user")
        {
            curl_user(line, p + 1, hits);
        }
    }

    /// Token prefixes, webhook URLs, Azure client secrets, service-account key files.
    fn rare_literals(&self, line: &[u8], classes: &Classes, hits: &mut Vec<Hit>) {
        let secret = |hits: &mut Vec<Hit>, span: Option<(usize, usize)>| {
            if let Some((a, b)) = span {
                push(hits, a, b, Detector::Secret, Label::Secret);
            }
        };
        if let Some(prefixes) = &self.prefixes {
            let mut next_free = 0;
            for s in classes.starts(Class::Word) {
                if s < next_free {
                    continue;
                }
                let Some((p, min)) = prefixes.longest_at(line, s) else {
                    continue;
                };
                next_free = s + p.len();
                if !inside_token(line, s) {
                    secret(hits, prefixed(line, s, s + p.len(), p, min));
                }
            }
        }
        // Both webhook forms hold `hooks`: one search finds either.
        const HOOKS_AT: usize = WEBHOOK_PATH.len() - "hooks/".len();
        for h in self.hooks.find_iter(line) {
            if line[h..].starts_with(SLACK_WEBHOOK.as_bytes()) {
                secret(hits, value_at(line, h + SLACK_WEBHOOK.len()));
            }
            if let Some(e) = h.checked_sub(HOOKS_AT)
                && line[e..].starts_with(WEBHOOK_PATH.as_bytes())
                && WEBHOOK_HOSTS
                    .iter()
                    .any(|host| ends_with_ignore_case(&line[..e], host.as_bytes()))
            {
                secret(hits, value_at(line, e + WEBHOOK_PATH.len()));
            }
        }
        for t in classes.ones(Class::Tilde) {
            if t > 0 && (line[t - 1] | 0x20) == b'q' {
                secret(hits, azure(line, t - 1, t + 1));
            }
        }
        if classes.any(Class::Underscore) {
            for s in self.service_account.find_iter(line) {
                secret(hits, service_account(line, s, s + b"service_account".len()));
            }
        }
    }
}

/// Token prefixes by their first two bytes: each starts a word (`prefixed` checks the byte
/// before), so only word starts are looked up, two table reads each.
struct Prefixes {
    /// Bit i: `PREFIXES[i]` has this first byte.
    first: [u64; 256],
    /// Bit i: `PREFIXES[i]` has this second byte.
    second: [u64; 256],
}

impl Prefixes {
    fn new() -> Prefixes {
        assert!(PREFIXES.len() <= 64, "one bit per prefix");
        let mut table = Prefixes {
            first: [0; 256],
            second: [0; 256],
        };
        for (i, (p, _)) in PREFIXES.iter().enumerate() {
            let p = p.as_bytes();
            table.first[usize::from(p[0])] |= 1 << i;
            table.second[usize::from(p[1])] |= 1 << i;
        }
        table
    }

    /// The longest prefix that `line[s..]` starts with, and how many token bytes it needs.
    fn longest_at(&self, line: &[u8], s: usize) -> Option<(&'static str, usize)> {
        let second = line.get(s + 1)?;
        let mut candidates = self.first[usize::from(line[s])] & self.second[usize::from(*second)];
        let mut best: Option<(&'static str, usize)> = None;
        while candidates != 0 {
            let (p, min) = PREFIXES[candidates.trailing_zeros() as usize];
            candidates &= candidates - 1;
            if line[s..].starts_with(p.as_bytes()) && best.is_none_or(|(b, _)| p.len() > b.len()) {
                best = Some((p, min));
            }
        }
        best
    }
}

/// Values of a secret-named key that are settings or descriptions, not secrets: a number or
/// a boolean when the key says more than the secret word (`password_min_length=10`,
/// `token_ttl=3600`, `password_expired=true`), a switch word (`using password: NO`), a scheme
/// alone (`"token_type": "Bearer"`), a short number after a short key (`sid:3`), a working
/// directory (`PWD=/srv/app`), and PAM's `(passwd:chauthtok)`.
fn is_setting(line: &[u8], s: usize, e: usize, (a, b): (usize, usize), exact: bool) -> bool {
    let value = &line[a..b];
    let mut is = s;
    while is > 0 && is_ident(line[is - 1]) {
        is -= 1;
    }
    let mut ie = e;
    while ie < line.len() && is_ident(line[ie]) {
        ie += 1;
    }
    let more_than_the_word = is < s || ie > e;
    let number = value.iter().all(|c| c.is_ascii_digit() || *c == b'.') && value.len() <= 12;
    const SWITCHES: [&[u8]; 12] = [
        b"true",
        b"false",
        b"yes",
        b"no",
        b"on",
        b"off",
        b"none",
        b"null",
        b"nil",
        b"enabled",
        b"disabled",
        b"required",
    ];
    let switch = SWITCHES.iter().any(|w| w.eq_ignore_ascii_case(value));
    let scheme_alone = SCHEMES
        .iter()
        .any(|w| w.as_bytes().eq_ignore_ascii_case(value))
        && line.get(b).is_none_or(|&c| c != b' ');
    let pam = is > 0 && line[is - 1] == b'(' && line.get(b) == Some(&b')');
    let directory =
        exact && line[s..e].eq_ignore_ascii_case(b"pwd") && matches!(value[0], b'/' | b'~');
    // nsswitch.conf: `passwd: files systemd` names where accounts are looked up.
    const NSS_SOURCES: [&[u8]; 9] = [
        b"files",
        b"compat",
        b"systemd",
        b"sss",
        b"ldap",
        b"nis",
        b"db",
        b"winbind",
        b"extrausers",
    ];
    let first_word = value
        .split(u8::is_ascii_whitespace)
        .next()
        .unwrap_or_default();
    let nsswitch = NSS_SOURCES
        .iter()
        .any(|w| w.eq_ignore_ascii_case(first_word))
        && [&b"passwd"[..], b"shadow"]
            .iter()
            .any(|k| line[is..ie].eq_ignore_ascii_case(k));
    // `secretName: db-credentials`, `password_file=/run/x`, `tokenPath`: where a secret is, or
    // what it is called, not the secret.
    let ident = &line[is..ie];
    let reference = [
        &b"name"[..],
        b"ref",
        b"file",
        b"path",
        b"type",
        b"arn",
        b"mode",
    ]
    .iter()
    .any(|w| ident.len() > w.len() && ident[ident.len() - w.len()..].eq_ignore_ascii_case(w));
    // `token=d6a9a4a`: an object's short hex handle (Android's window tokens), not a credential.
    // `token=Token{a64f992 …}`, `BinderProxy@2bd79ce`: a printed object.
    let printed = memchr::memchr2(b'{', b'@', value).is_some_and(|at| {
        let (class, hash) = (&value[..at], &value[at + 1..]);
        class.len() >= 4
            && class
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'$'))
            && class.iter().any(u8::is_ascii_uppercase)
            && hash.len() >= 6
            && hash.iter().take_while(|b| b.is_ascii_hexdigit()).count() >= 6
    });
    let handle = printed
        || (line[s..e].eq_ignore_ascii_case(b"token")
            && value.len() <= 10
            && value.iter().all(u8::is_ascii_hexdigit));
    handle
        || (more_than_the_word && (number || reference))
        || switch
        || scheme_alone
        || pam
        || directory
        || nsswitch
        || (exact && number && value.len() <= 3)
}

/// `8-4-4-4-12` hex digits.
fn is_uuid(v: &[u8]) -> bool {
    v.len() == 36
        && v.iter().enumerate().all(|(i, &b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

/// Whether the key at `s` stands in a JSON or Ruby object that a [`PERSON_OBJECTS`] key
/// holds (`"customer":{"name":…`).
fn in_person_object(line: &[u8], s: usize) -> bool {
    let Some(open) = memchr::memrchr(b'{', &line[..s]) else {
        return false;
    };
    if memchr::memrchr(b'}', &line[..s]).is_some_and(|close| close > open) {
        return false;
    }
    let before = line[..open]
        .trim_ascii_end()
        .strip_suffix(b"=>")
        .or_else(|| line[..open].trim_ascii_end().strip_suffix(b":"))
        .map(<[u8]>::trim_ascii_end)
        .unwrap_or_default();
    let before = before
        .strip_suffix(b"\"")
        .or_else(|| before.strip_suffix(b"'"))
        .unwrap_or(before);
    PERSON_OBJECTS
        .iter()
        .any(|k| ends_with_ignore_case(before, k.as_bytes()))
}

/// `uid=0`, `euid=33`, `uid=10113`: an account's number, which names no person. Two numbers
/// do: the audit uid (`auid=`, the person who logged in; unset is 4294967295), and the uid a
/// named user's session carries (PAM's `for user NAME(uid=1000)`).
fn system_uid(line: &[u8], s: usize, e: usize, value: &[u8]) -> bool {
    // A uid is an account's number (Android gives one to every app), not a name; `user=0` is
    // Android's owner profile.
    let number = !value.is_empty() && value.len() <= 6 && value.iter().all(u8::is_ascii_digit);
    let lower = line[s..e].to_ascii_lowercase();
    if lower == b"auid" {
        return value == b"0" || value == b"4294967295";
    }
    let of_named_user = lower == b"uid"
        && s >= 2
        && line[s - 1] == b'('
        && (line[s - 2].is_ascii_alphanumeric() || matches!(line[s - 2], b'_' | b'.' | b'-'));
    number
        && !(of_named_user && value != b"0")
        && (lower.ends_with(b"uid") || (lower == b"user" && value.len() <= 2))
}

/// `curl -u user:pass`, `--user user:pass`: the credentials, on a curl command line only.
fn curl_user(line: &[u8], at: usize, hits: &mut Vec<Hit>) {
    if memmem::find(line, b"curl").is_some()
        && let Some((a, b)) = shell_word(line, at)
    {
        push(hits, a, b, Detector::Secret, Label::Secret);
    }
}

/// The phrases [`Keywords::at_space`] looks for; each must end in a [`Class::PhraseEnd`] byte.
#[cfg(test)]
pub(super) fn phrases() -> impl Iterator<Item = &'static str> {
    USER_PHRASES
        .iter()
        .map(|p| p.trim_end())
        .chain(["bearer", " -u", " --user"])
}

/// Names from the admin's list, as whole words.
pub(super) fn listed_names(names: &AhoCorasick, line: &[u8], hits: &mut Vec<Hit>) {
    for m in names.find_iter(line) {
        let (s, e) = (m.start(), m.end());
        if (s == 0 || !is_word(line[s - 1])) && (e == line.len() || !is_word(line[e])) {
            push(hits, s, e, Detector::UserName, Label::UserName);
        }
    }
}

/// A `-----BEGIN … PRIVATE KEY-----` marker on `line`: where it closes, and where an
/// `-----END` after it starts, if the block ends on the same line. The one reading of the
/// marker, for the line's own hits and for the stream state after it.
pub(super) fn private_key_marker(line: &[u8]) -> Option<(usize, Option<usize>)> {
    let b = finder!(b"-----BEGIN").find(line)?;
    let close = memmem::find(&line[b + 10..], b"-----").map(|c| b + 10 + c + 5)?;
    memmem::find(&line[b..close], b"PRIVATE KEY")?;
    Some((
        close,
        finder!(b"-----END").find(&line[close..]).map(|p| close + p),
    ))
}

/// A private-key block that begins on this line: its body after the BEGIN marker, to the END
/// marker or the line's end (the lines after it are [`super::stream::LineState`]'s).
#[inline(never)]
pub(super) fn private_key_begins(line: &[u8], classes: &Classes, hits: &mut Vec<Hit>) {
    if classes.long_runs(Class::Dash, 5).next().is_none() {
        return;
    }
    let Some((close, end)) = private_key_marker(line) else {
        return;
    };
    let end = end.unwrap_or(line.len());
    let a = skip_blanks(line, close);
    if end > a {
        push(hits, a, end, Detector::Secret, Label::Secret);
    }
}
