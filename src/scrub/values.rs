//! Value readers: given where a key, prefix or phrase stands, the span of the credential or
//! user name that goes with it (`password = "…"`, `Cookie: a=…; b=…`, `scheme://user:pass@`,
//! `invalid user X`). Each returns spans that start and end on ASCII bytes, or nothing.

use memchr::memmem;

use super::vocabulary::{COOKIE_ATTRIBUTES, SCHEMES};
use super::{Detector, Hit, Label, is_token, is_word};

/// Whether a match at `s` lies inside one of our own tokens, such as `[user_name:h:…]` (or an
/// admin pattern's, whose name is up to 32 bytes).
pub(super) fn inside_token(line: &[u8], s: usize) -> bool {
    let from = s.saturating_sub(48);
    let Some(open) = line[from..s]
        .iter()
        .rposition(|&b| b == b'[')
        .map(|o| from + o)
    else {
        return false;
    };
    // The token must still be open at `s`: one that closed before it (`[secret] pwd=…`) is
    // only a neighbour.
    memchr::memchr(b']', &line[open..])
        .is_some_and(|c| open + c >= s && is_token(&line[open..=open + c]))
}

pub(super) fn push(
    hits: &mut Vec<Hit>,
    start: usize,
    end: usize,
    detector: Detector,
    label: Label,
) {
    hits.push(Hit {
        start,
        end,
        detector,
        label,
    });
}

pub(super) fn skip_blanks(line: &[u8], mut i: usize) -> usize {
    while i < line.len() && matches!(line[i], b' ' | b'\t') {
        i += 1;
    }
    i
}

/// After a key word at `s..e`, the span of its value: the key may continue (`password_hash`)
/// unless `exact`, may be quoted, and is followed by `=`, `:`, `=>` or `:=`.
pub(super) fn key_value(line: &[u8], s: usize, e: usize, exact: bool) -> Option<(usize, usize)> {
    let mut i = e;
    if exact {
        let camel = s > 0 && line[s - 1].is_ascii_lowercase() && line[s].is_ascii_uppercase();
        if (s > 0 && line[s - 1].is_ascii_alphanumeric() && !camel)
            || line.get(i).is_some_and(|&b| is_word(b))
        {
            return None;
        }
    } else {
        while i < line.len() && (is_word(line[i]) || line[i] == b'-' || line[i] == b'.') {
            i += 1;
        }
    }
    if i < line.len() && matches!(line[i], b'"' | b'\'' | b']') {
        i += 1;
    }
    let key_end = i;
    i = skip_blanks(line, i);
    let spaced = i > key_end;
    let equals = match line.get(i) {
        Some(b'=') => {
            i += 1 + usize::from(line.get(i + 1) == Some(&b'>'));
            true
        }
        Some(b':') if line.get(i + 1) != Some(&b':') => {
            i += 1 + usize::from(line.get(i + 1) == Some(&b'='));
            false
        }
        _ => return None,
    };
    // In `k=v` lists, `logname= uid=0` means an empty value, not `uid=0`; `k = v` is spaced.
    if equals && !spaced && line.get(i).is_some_and(|&b| b == b' ' || b == b'\t') {
        return None;
    }
    let mut v = skip_blanks(line, i);
    // A nested object (`"user":{"id":…}`) is not the key's value: its own keys are looked at
    // one by one, and its braces stay. An array's value is its first element (`"token":["…"]`).
    if line.get(v) == Some(&b'{') {
        return None;
    }
    if line.get(v) == Some(&b'[') {
        // `["abc"]`; a token (`[user_name:h:…]`) or a bracketed word is the value itself.
        let first = skip_blanks(line, v + 1);
        match line.get(first) {
            Some(b'"' | b'\'') => v = first,
            Some(b'{' | b'[') => return None,
            _ => {}
        }
    }
    let word = value_at(line, v)?;
    // A YAML key that starts its line: an unquoted value runs to the line's end, spaces and
    // all, unless another field follows or it starts with a scheme (`Basic …`).
    let key_starts_line = line[..s]
        .iter()
        .all(|&b| matches!(b, b' ' | b'\t' | b'-' | b'"' | b'\''));
    let rest = &line[word.1..];
    if !equals
        && key_starts_line
        && word.0 == v
        && !matches!(line[v], b'[' | b'{' | b'|' | b'>')
        && memchr::memchr(b'=', rest).is_none()
        && finder!(b": ").find(rest).is_none()
        && !SCHEMES
            .iter()
            .any(|k| k.as_bytes().eq_ignore_ascii_case(&line[word.0..word.1]))
    {
        let end = v + line[v..].trim_ascii_end().len();
        return Some((v, end.max(word.1)));
    }
    // An angle-bracketed value (`user=<bob@x.org>,`) is what stands between the brackets.
    if line.get(word.0) == Some(&b'<') {
        let close = memchr::memchr(b'>', &line[word.0..word.1]).map_or(word.1, |c| word.0 + c);
        return Some((word.0 + 1, close)).filter(|&(a, b)| b > a);
    }
    Some(word)
}

/// The end of a bare (unquoted) value that starts at `i`: at whitespace, never at the first
/// punctuation mark (`password=&x#y` is one value). It also ends where another field plainly
/// begins (`&name=`, `;name=`, `,name=`, `</`) or an enclosing string closes (a quote before
/// `,` `}` `)` `]` `;`, a blank or the line's end); closing brackets and stops at its end are
/// left out.
pub(super) fn bare_end(line: &[u8], i: usize) -> usize {
    let mut j = i;
    while j < line.len() {
        let b = line[j];
        if b.is_ascii_whitespace() {
            break;
        }
        let next = line.get(j + 1).copied();
        match b {
            b'&' | b';' | b',' if j > i && field_starts(line, j + 1) => break,
            b'<' if next == Some(b'/') => break,
            b'"' | b'\'' | b'`'
                if j > i
                    && next.is_none_or(|n| {
                        n.is_ascii_whitespace() || matches!(n, b',' | b'}' | b')' | b']' | b';')
                    }) =>
            {
                break;
            }
            _ => {}
        }
        j += 1;
    }
    while j > i + 1
        && matches!(
            line[j - 1],
            b'.' | b',' | b';' | b':' | b')' | b']' | b'}' | b'>'
        )
    {
        j -= 1;
    }
    j
}

/// Whether a `name=` field starts at `i` (after optional blanks).
fn field_starts(line: &[u8], i: usize) -> bool {
    let mut j = skip_blanks(line, i);
    let start = j;
    while j < line.len() && (is_word(line[j]) || matches!(line[j], b'-' | b'.' | b' ')) {
        j += 1;
    }
    j > start && j - start <= 40 && line.get(j) == Some(&b'=')
}

/// The value starting at `i`: a quoted string (escapes honoured, to the line's end if unclosed)
/// or a bare word ([`bare_end`]). `None` when empty or already one of our tokens.
pub(super) fn value_at(line: &[u8], i: usize) -> Option<(usize, usize)> {
    let first = *line.get(i)?;
    let (a, b) = if matches!(first, b'"' | b'\'' | b'`') {
        let mut j = i + 1;
        while j < line.len() && line[j] != first {
            j += if line[j] == b'\\' { 2 } else { 1 };
        }
        (i + 1, j.min(line.len()))
    } else if first == b'[' {
        let close = memchr::memchr(b']', &line[i..]).map_or(line.len(), |c| i + c + 1);
        if is_token(&line[i..close]) {
            return None;
        }
        (i, bare_end(line, i))
    } else if first.is_ascii_whitespace() {
        return None;
    } else {
        (i, bare_end(line, i))
    };
    (b > a && !is_token(&line[a..b])).then_some((a, b))
}

/// `tokens: 3`, `secrets=12`: a plural key with a small number is a count, not a credential.
pub(super) fn is_count(line: &[u8], key_end: usize, a: usize, b: usize) -> bool {
    line.get(key_end)
        .is_some_and(|c| c.eq_ignore_ascii_case(&b's'))
        && !line.get(key_end + 1).is_some_and(|&c| is_word(c))
        && b - a <= 6
        && line[a..b].iter().all(u8::is_ascii_digit)
}

/// If the value is a scheme word (`Bearer`, `Basic`, …) followed by more, the credential is the
/// next word.
pub(super) fn past_scheme(line: &[u8], (a, b): (usize, usize)) -> Option<(usize, usize)> {
    let word = &line[a..b];
    if SCHEMES
        .iter()
        .any(|s| s.as_bytes().eq_ignore_ascii_case(word))
        && line.get(b) == Some(&b' ')
    {
        return value_at(line, skip_blanks(line, b));
    }
    Some((a, b))
}

pub(super) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'+' | b'/' | b'=' | b'~')
}

/// A prefixed token: exact case, at a word start, with at least `min` token bytes after.
pub(super) fn prefixed(
    line: &[u8],
    s: usize,
    e: usize,
    pattern: &str,
    min: usize,
) -> Option<(usize, usize)> {
    if &line[s..e] != pattern.as_bytes() || (s > 0 && is_word(line[s - 1])) {
        return None;
    }
    let mut j = e;
    while j < line.len() && is_token_byte(line[j]) {
        j += 1;
    }
    while j > e && line[j - 1] == b'.' {
        j -= 1;
    }
    (j - e >= min).then_some((s, j))
}

/// `abc8Q~` + 31–34 secret bytes: an Azure AD client secret.
pub(super) fn azure(line: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    let ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'~' | b'.' | b'-');
    if s < 4 || !line[s - 1].is_ascii_digit() || !line[s - 4..s - 1].iter().all(|&b| ok(b)) {
        return None;
    }
    if s > 4 && ok(line[s - 5]) && line[s - 5] != b'.' {
        return None;
    }
    let mut j = e;
    while j < line.len() && ok(line[j]) {
        j += 1;
    }
    (31..=36).contains(&(j - e)).then_some((s - 4, j))
}

/// `"type": "service_account"` marks a service-account key file.
pub(super) fn service_account(line: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    let before = &line[..s];
    let quoted = before.ends_with(b"\"") && line.get(e) == Some(&b'"');
    let typed = before.len() >= 8
        && memmem::rfind(&before[before.len().saturating_sub(12)..], b"type").is_some();
    (quoted && typed).then_some((s, e))
}

/// The shell word at `i` (after blanks): quoted and bare parts up to an unquoted blank.
pub(super) fn shell_word(line: &[u8], i: usize) -> Option<(usize, usize)> {
    let start = skip_blanks(line, i);
    let mut j = start;
    let mut quote = None;
    while j < line.len() {
        let b = line[j];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b.is_ascii_whitespace() => break,
            None => {}
        }
        j += 1;
    }
    (j > start).then_some((start, j))
}

/// `scheme://user:pass@host`: the password is secret, the user is a user name.
pub(super) fn url_credentials(line: &[u8], after: usize, hits: &mut Vec<Hit>) {
    let Some(j) = userinfo_end(line, after) else {
        return;
    };
    let info = &line[after..j];
    // A user already replaced by a token keeps its brackets: look for the colon after it.
    let user_end = match info.first() {
        Some(b'[') => memchr::memchr(b']', info)
            .filter(|&c| is_token(&info[..=c]))
            .map_or(0, |c| c + 1),
        _ => 0,
    };
    let colon = memchr::memchr(b':', &info[user_end..]).map(|c| user_end + c);
    let (user, pass) = match colon {
        Some(c) => ((after, after + c), Some((after + c + 1, j))),
        None => ((after, j), None),
    };
    if user.1 > user.0 && !is_token(&line[user.0..user.1]) {
        push(
            hits,
            user.0,
            user.1,
            Detector::UrlCredentials,
            Label::UserName,
        );
    }
    if let Some((a, b)) = pass.filter(|&(a, b)| b > a && !is_token(&line[a..b])) {
        push(hits, a, b, Detector::UrlCredentials, Label::Secret);
    }
}

/// The `@` that ends the user information of a URL whose authority starts at `after`. Logs
/// carry passwords unescaped, so a `user:` part runs to the last `@` before a host name, over
/// `/ ? # @ %`, unless what it would swallow is a query (`?…=`).
pub(super) fn userinfo_end(line: &[u8], after: usize) -> Option<usize> {
    let stop = |b: u8| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'<' | b'>' | b'`');
    let mut end = after;
    while end < line.len() && !stop(line[end]) {
        end += 1;
    }
    let url = &line[after..end];
    let first_special = url
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#' | b'@'))?;
    let colon = memchr::memchr(b':', &url[..first_special]);
    if url[first_special] == b'@' && colon.is_none() {
        return (first_special > 0).then_some(after + first_special);
    }
    let colon = colon?;
    let port = &url[colon + 1..first_special];
    if url[first_special] != b'@' && !port.is_empty() && port.iter().all(u8::is_ascii_digit) {
        // `host:8080/path`: a port, not a password, unless a dotted host name follows a later
        // `@` (`user:9/s%U/x@db.example.com`).
        let dotted_host_later = memchr::memrchr(b'@', url).is_some_and(|at| {
            let rest = &url[at + 1..];
            let host = rest
                .iter()
                .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
                .count();
            memchr::memchr(b'.', &rest[..host]).is_some()
        });
        if !dotted_host_later {
            return None;
        }
    }
    // The last `@` followed by a host, whose password part holds no query.
    let host_follows = |at: usize| {
        let rest = &url[at + 1..];
        let h = rest
            .iter()
            .take_while(|&&b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b'_')
            })
            .count();
        h > 0
            && rest
                .get(h)
                .is_none_or(|&b| matches!(b, b':' | b'/' | b'?' | b'#' | b',' | b';' | b')'))
    };
    let query = |at: usize| {
        let pass = &url[colon + 1..at];
        memchr::memchr(b'?', pass).is_some_and(|q| memchr::memchr(b'=', &pass[q..]).is_some())
    };
    memchr::memrchr_iter(b'@', url)
        .filter(|&at| at > colon)
        .find(|&at| host_follows(at) && !query(at))
        .map(|at| after + at)
}

/// Every value in a `Cookie:` or `Set-Cookie:` header, attributes excepted.
pub(super) fn cookie_values(line: &[u8], s: usize, e: usize, hits: &mut Vec<Hit>) {
    let mut i = e;
    while i < line.len() && (is_word(line[i]) || line[i] == b'-') {
        i += 1;
    }
    let _ = s;
    if i < line.len() && matches!(line[i], b'"' | b'\'') {
        i += 1;
    }
    i = skip_blanks(line, i);
    if !matches!(line.get(i), Some(b':' | b'=')) {
        return;
    }
    i += 1;
    loop {
        i = skip_blanks(line, i);
        let name_start = i;
        while i < line.len()
            && !matches!(line[i], b'=' | b';' | b'"' | b'\'' | b'\n')
            && !line[i].is_ascii_whitespace()
        {
            i += 1;
        }
        if line.get(i) != Some(&b'=') {
            return;
        }
        let name = &line[name_start..i];
        i += 1;
        let v = i;
        while i < line.len()
            && !matches!(line[i], b';' | b'"' | b'\'')
            && !line[i].is_ascii_whitespace()
        {
            i += 1;
        }
        let attribute = COOKIE_ATTRIBUTES
            .iter()
            .any(|a| a.as_bytes().eq_ignore_ascii_case(name));
        if i > v && !attribute && !is_token(&line[v..i]) {
            push(hits, v, i, Detector::Secret, Label::Secret);
        }
        if line.get(i) != Some(&b';') {
            return;
        }
        i += 1;
    }
}

pub(super) fn is_user_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@' | b'$' | b'\\')
}

pub(super) fn user_like(v: &[u8]) -> bool {
    !v.is_empty() && !v.eq_ignore_ascii_case(b"unknown")
}

/// The `id` of an object that is a user key's value (`"actor":{"id":"00u…"`,
/// `"user"=>{"id"=>7}`): the person's identifier, written one level down.
pub(super) fn object_id(line: &[u8], e: usize) -> Option<(usize, usize)> {
    let mut i = e;
    if matches!(line.get(i), Some(b'"' | b'\'')) {
        i += 1;
    }
    i = skip_blanks(line, i);
    i += match line.get(i..i + 2)? {
        b"=>" => 2,
        [b':', _] => 1,
        _ => return None,
    };
    i = skip_blanks(line, i);
    if line.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_blanks(line, i + 1);
    let quote = *line.get(i)?;
    if !matches!(quote, b'"' | b'\'') || line.get(i + 1..i + 4)? != [b'i', b'd', quote] {
        return None;
    }
    i = skip_blanks(line, i + 4);
    i += match line.get(i..i + 2)? {
        b"=>" => 2,
        [b':', _] => 1,
        _ => return None,
    };
    let (a, b) = value_at(line, skip_blanks(line, i))?;
    // An unquoted id ends where the object's syntax goes on (`{"id":7},`).
    let b = line[a..b]
        .iter()
        .position(|c| matches!(c, b',' | b'}' | b']'))
        .map_or(b, |n| a + n);
    (b > a).then_some((a, b))
}

/// The user name after a phrase such as `password for ` (skipping `invalid user `, `user `).
pub(super) fn phrase_user(line: &[u8], e: usize) -> Option<(usize, usize)> {
    let mut i = skip_blanks(line, e);
    let mut before_filler = None;
    for filler in [&b"invalid user "[..], b"illegal user ", b"user "] {
        if line.len() >= i + filler.len() && line[i..i + filler.len()].eq_ignore_ascii_case(filler)
        {
            before_filler = Some(i + filler.len() - b"user ".len());
            i = skip_blanks(line, i + filler.len());
        }
    }
    // A quoted or bracketed name (`for user 'bob'@'localhost'`, `user <bob>`).
    if matches!(line.get(i), Some(b'\'' | b'"' | b'<' | b'(')) {
        i += 1;
    }
    let mut name = user_at(line, i);
    // `Invalid user user from …`: a user named `user`. When a filler is followed by no name, or
    // by the word after a name, its last word was the name.
    let after_name = |(a, b): (usize, usize)| {
        [&b"from"[..], b"port", b"by"]
            .iter()
            .any(|w| line[a..b].eq_ignore_ascii_case(w))
    };
    if let Some(at) = before_filler
        && name.is_none_or(after_name)
    {
        name = user_at(line, at);
    }
    name.filter(|&(a, b)| user_like(&line[a..b]) && !is_token(&line[a..b]))
        // A display name runs on (`Started by user Anton Peters`).
        .map(|(a, b)| (a, person_name(line, a).map_or(b, |e| e.max(b))))
}

/// Words that join the parts of a person's name (`Jesse van den Berg`, `Julia de Broek`).
const NAME_PARTICLES: &[&[u8]] = &[
    b"van", b"de", b"der", b"den", b"von", b"da", b"di", b"du", b"del", b"la", b"le", b"ten",
    b"ter", b"bin", b"al", b"dos", b"das",
];

/// A person's name written out at `a`: two to five words, the first and last capitalised
/// (`Alba Hernández`, `Annelies van der Berg`), the rest capitalised or name particles,
/// single spaces between. Its end, if so.
pub(super) fn person_name(line: &[u8], a: usize) -> Option<usize> {
    let capitalised = |w: &[u8]| {
        w.len() >= 2
            && w[0].is_ascii_uppercase()
            && w[1..]
                .iter()
                .all(|&b| b.is_ascii_lowercase() || b >= 0x80 || b == b'-' || b == b'\'')
            && w[1..].iter().any(|&b| b.is_ascii_lowercase() || b >= 0x80)
    };
    let word_end = |i: usize| {
        line[i..]
            .iter()
            .position(|&b| !(b.is_ascii_alphabetic() || b >= 0x80 || b == b'-' || b == b'\''))
            .map_or(line.len(), |n| i + n)
    };
    let mut i = a;
    let mut words = 0;
    let mut end = None;
    loop {
        let e = word_end(i);
        let word = &line[i..e];
        let particle = words > 0 && NAME_PARTICLES.contains(&word);
        if capitalised(word) {
            words += 1;
            if words >= 2 {
                end = Some(e);
            }
        } else if !particle {
            break;
        }
        if words == 5 || line.get(e) != Some(&b' ') {
            break;
        }
        i = e + 1;
    }
    end
}

/// The run of user-name bytes at `i`, without a trailing `.` or `-`.
fn user_at(line: &[u8], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    while j < line.len() && is_user_byte(line[j]) {
        j += 1;
    }
    while j > i && matches!(line[j - 1], b'.' | b'-') {
        j -= 1;
    }
    (j > i).then_some((i, j))
}
