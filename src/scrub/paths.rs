//! The person in a path: the user component of home directories (`/home/X`, `/Users/X`,
//! `C:\Users\X`, `/media/X`, `\\server\home$\X`), pseudonymised with the rest of the path kept,
//! and the identifier in a REST path (`/users/<id>/…`).

use super::values::push;
use super::{Detector, Hit, Label, is_token};

/// Path prefixes followed by a user name; the REST one (`/users/`) by an identifier.
const HOMES: [&str; 7] = [
    "/home/",
    "/Users/",
    "\\Users\\",
    "\\users\\",
    "/media/",
    "\\home$\\",
    "/users/",
];

/// Directories under a home root that are nobody's.
const NOBODY: &[&[u8]] = &[
    b"Shared",
    b"Public",
    b"Default",
    b"All Users",
    b"Default User",
    b"..",
    b".",
];

/// The home prefixes at `line[at..]`, which is a `/` or `\\`: the index of the one it starts
/// with. Every prefix starts with a separator, so none can hide another.
fn home_at(line: &[u8], at: usize) -> Option<usize> {
    if !matches!(line.get(at + 1), Some(b'h' | b'U' | b'u' | b'm')) {
        return None;
    }
    HOMES
        .iter()
        .position(|h| line[at..].starts_with(h.as_bytes()))
}

/// Adds a hit for the user component of every home path, when `home` is on, and the id of
/// every REST user path, when `ids` is on.
#[inline(never)]
pub(super) fn find(line: &[u8], home: bool, ids: bool, hits: &mut Vec<Hit>) {
    let mut from = 0;
    for at in memchr::memchr2_iter(b'/', b'\\', line) {
        if at < from {
            continue;
        }
        let Some(prefix) = home_at(line, at) else {
            continue;
        };
        let a = at + HOMES[prefix].len();
        from = a;
        let mut b = a;
        while b < line.len()
            && !matches!(
                line[b],
                b'/' | b'\\' | b'"' | b'\'' | b':' | b',' | b')' | b']' | b'>' | b'<' | b'?' | b'#'
            )
            && !line[b].is_ascii_whitespace()
        {
            b += 1;
        }
        if b == a || is_token(&line[a..b]) || NOBODY.contains(&&line[a..b]) {
            continue;
        }
        let rest = HOMES[prefix] == "/users/";
        if rest {
            let id = &line[a..b];
            if ids && id.iter().any(u8::is_ascii_digit) {
                push(hits, a, b, Detector::UserId, Label::UserId);
            }
        } else if home {
            push(hits, a, b, Detector::HomePath, Label::UserName);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(line: &str) -> Vec<&str> {
        let mut h = Vec::new();
        find(line.as_bytes(), true, true, &mut h);
        h.iter().map(|h| &line[h.start..h.end]).collect()
    }

    #[test]
    fn the_user_component_of_homes_and_rest_paths() {
        assert_eq!(found("open /home/k7mqz/.ssh/id_rsa"), ["k7mqz"]);
        assert_eq!(found(r"C:\Users\jdoe42\Documents\a.xlsx"), ["jdoe42"]);
        assert_eq!(found("file:///Users/ann/Downloads"), ["ann"]);
        assert_eq!(found(r"mapped \\fs01\home$\xpahg4"), ["xpahg4"]);
        assert_eq!(found("mounted /media/bob/USB"), ["bob"]);
        assert_eq!(
            found("GET /api/users/76c4d352-f2e2/profile"),
            ["76c4d352-f2e2"]
        );
        assert!(found("GET /api/users/me and /Users/Shared/x and /home/").is_empty());
    }
}
