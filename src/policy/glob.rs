//! Globs over dotted field paths, the language of `allow`, `drop`, `pseudonymize` and `mask`.
//!
//! A pattern is dot-separated segments. In a segment `*` matches any run of characters; a whole
//! segment `**` matches any number of segments. A pattern that matches a path also matches
//! everything beneath it, so `memory` and `memory.*` both cover `memory.used_bytes`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A validated dotted-path glob such as `cpu.*`, `disks.**.mount` or `user.email`.
#[derive(Clone, PartialEq, Eq)]
pub struct PathGlob {
    text: String,
    segments: Vec<Segment>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    /// `**`: zero or more segments.
    AnyDepth,
    /// A segment pattern, `*` wildcards allowed.
    Pattern(String),
}

impl PathGlob {
    /// Parses a pattern; errors say what is wrong with it.
    pub fn new(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("empty field pattern; use `*` to match every top-level field".into());
        }
        if text.chars().any(char::is_whitespace) {
            return Err(format!("field pattern `{text}` contains white space"));
        }
        let mut segments = Vec::new();
        for seg in text.split('.') {
            if seg.is_empty() {
                return Err(format!(
                    "field pattern `{text}` has an empty segment (two dots, or a dot at an end)"
                ));
            }
            if seg == "**" {
                if segments.last() != Some(&Segment::AnyDepth) {
                    segments.push(Segment::AnyDepth);
                }
            } else if seg.contains("**") {
                return Err(format!(
                    "field pattern `{text}`: `**` must be a whole segment, as in `a.**.b`"
                ));
            } else {
                segments.push(Segment::Pattern(seg.to_owned()));
            }
        }
        Ok(PathGlob {
            text: text.to_owned(),
            segments,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern covers `path` (the path itself or one of its ancestors matches).
    pub fn covers(&self, path: &str) -> bool {
        covers(&self.segments, path.split('.'))
    }
}

/// Matches pattern segments against the remaining path segments, without allocating.
fn covers(pattern: &[Segment], mut path: std::str::Split<'_, char>) -> bool {
    match pattern.split_first() {
        None => true,
        Some((Segment::AnyDepth, rest)) => loop {
            if covers(rest, path.clone()) {
                return true;
            }
            if path.next().is_none() {
                return false;
            }
        },
        Some((Segment::Pattern(p), rest)) => match path.next() {
            Some(head) => wildcard_match(p, head) && covers(rest, path),
            None => false,
        },
    }
}

/// Matches `text` against `pattern`, where `*` stands for any run of characters.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            backtrack = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((star, matched)) = backtrack {
            pi = star + 1;
            ti = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

impl fmt::Debug for PathGlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PathGlob({:?})", self.text)
    }
}

impl fmt::Display for PathGlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for PathGlob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for PathGlob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        PathGlob::new(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, path: &str, expect: bool) {
        let g = PathGlob::new(pattern).unwrap();
        assert_eq!(g.covers(path), expect, "`{pattern}` covers `{path}`");
    }

    #[test]
    fn a_pattern_covers_its_subtree() {
        check("memory", "memory", true);
        check("memory", "memory.used_bytes", true);
        check("memory.*", "memory.used_bytes", true);
        check("memory.*", "memory.swap.used", true);
        check("memory.*", "memory", false);
        check("memory", "memoryx", false);
        check("cpu.*", "memory.cpu", false);
    }

    #[test]
    fn star_matches_within_a_segment() {
        check("disk.*_bytes", "disk.used_bytes", true);
        check("disk.*_bytes", "disk.used_count", false);
        check("*.name", "host.name", true);
        check("*.name", "host.kernel", false);
        check("a*b*c", "aXXbYYc", true);
        check("a*b*c", "aXXbYY", false);
        check("*", "anything.at.all", true);
    }

    #[test]
    fn double_star_matches_any_depth() {
        check("**.email", "user.email", true);
        check("**.email", "a.b.c.email", true);
        check("**.email", "email", true);
        check("**.email", "user.emails", false);
        check("a.**.z", "a.z", true);
        check("a.**.z", "a.b.c.z.q", true);
        check("a.**.z", "b.z", false);
    }

    #[test]
    fn bad_patterns_say_why() {
        for (p, needle) in [
            ("", "empty"),
            ("a..b", "empty segment"),
            ("a.", "empty segment"),
            ("a b", "white space"),
            ("a**", "whole segment"),
        ] {
            let err = PathGlob::new(p).unwrap_err();
            assert!(err.contains(needle), "{p:?}: {err}");
        }
    }
}
