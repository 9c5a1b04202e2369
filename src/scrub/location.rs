//! GPS coordinates: a latitude and a longitude written as a pair of decimals with three or more
//! places (`52.37403,4.88969`, `52.3740° N, 4.8897° E`, `POINT(4.88 52.37)`), or one such
//! decimal after a latitude or longitude key (`lat=52.37403`, `"lng": 4.88`, `GPSLatitude=`).

use super::classes::{Class, Classes};
use super::values::push;
use super::{Detector, Hit, Label};

/// Fewest decimal places taken for a coordinate.
const MIN_PLACES: usize = 3;

/// A decimal at `dot`: its span (sign included) and value, if it has 1–3 integer digits and at
/// least [`MIN_PLACES`] places.
fn decimal_at(line: &[u8], dot: usize) -> Option<(usize, usize, f64)> {
    let mut s = dot;
    while s > 0 && dot - s < 3 && line[s - 1].is_ascii_digit() {
        s -= 1;
    }
    if s == dot || (s > 0 && (line[s - 1].is_ascii_alphanumeric() || line[s - 1] == b'.')) {
        return None;
    }
    if s > 0 && line[s - 1] == b'-' {
        s -= 1;
    }
    let mut e = dot + 1;
    while e < line.len() && line[e].is_ascii_digit() {
        e += 1;
    }
    if e - dot - 1 < MIN_PLACES
        || line
            .get(e)
            .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'.')
    {
        return None;
    }
    let value = std::str::from_utf8(&line[s..e]).ok()?.parse().ok()?;
    Some((s, e, value))
}

/// Keys whose value is a coordinate, lower case, matched at the end of the key.
const KEYS: &[&[u8]] = &[b"lat", b"lon", b"lng", b"latitude", b"longitude", b"long"];

fn after_key(line: &[u8], s: usize) -> bool {
    let mut j = s;
    while j > 0 && matches!(line[j - 1], b' ' | b'"' | b'\'' | b'=' | b':') {
        j -= 1;
    }
    if j == s {
        return false;
    }
    let key_end = j;
    while j > 0 && line[j - 1].is_ascii_alphabetic() {
        j -= 1;
    }
    let key = &line[j..key_end];
    KEYS.iter()
        .any(|k| key.len() >= k.len() && key[key.len() - k.len()..].eq_ignore_ascii_case(k))
}

/// NMEA 0183's degrees and minutes at `dot`: `ddmm.mmmm,N` (latitude) or `dddmm.mmmm,E`
/// (longitude) between commas, as `$GPGGA`/`$GPRMC` sentences carry them.
fn nmea_at(line: &[u8], dot: usize) -> Option<(usize, usize)> {
    let mut s = dot;
    while s > 0 && line[s - 1].is_ascii_digit() {
        s -= 1;
    }
    let mut e = dot + 1;
    while e < line.len() && line[e].is_ascii_digit() {
        e += 1;
    }
    let hemisphere = match dot - s {
        4 => [b'N', b'S'],
        5 => [b'E', b'W'],
        _ => return None,
    };
    let fields = s > 0
        && line[s - 1] == b','
        && e > dot + 1
        && line.get(e) == Some(&b',')
        && line.get(e + 1).is_some_and(|h| hemisphere.contains(h))
        && matches!(line.get(e + 2), None | Some(b',' | b'*'));
    fields.then_some((s, e))
}

/// Adds a hit for each coordinate of every pair, and every keyed coordinate.
#[inline(never)]
pub(super) fn find(line: &[u8], classes: &Classes, hits: &mut Vec<Hit>) {
    let mut next_free = 0;
    let mut last: Option<(usize, usize, f64)> = None;
    for dot in classes.ones(Class::Dot) {
        if dot < next_free {
            continue;
        }
        if let Some((s, e)) = nmea_at(line, dot) {
            push(hits, s, e, Detector::Gps, Label::Gps);
            next_free = e;
            continue;
        }
        let Some((s, e, v)) = decimal_at(line, dot) else {
            continue;
        };
        next_free = e;
        if after_key(line, s) && v.abs() <= 180.0 {
            push(hits, s, e, Detector::Gps, Label::Gps);
        }
        if let Some((ps, pe, pv)) = last {
            // A pair: at most a few separator bytes (`, `, `° N, `, a blank) between the two.
            let between = &line[pe..s];
            let close = between.len() <= 8
                && between.iter().all(|&b| {
                    matches!(b, b',' | b' ' | b';' | b'/' | b'N' | b'S' | b'E' | b'W') || b >= 0x80
                })
                && !between.is_empty();
            let ranges =
                (pv.abs() <= 90.0 && v.abs() <= 180.0) || (pv.abs() <= 180.0 && v.abs() <= 90.0);
            if close && ranges {
                push(hits, ps, pe, Detector::Gps, Label::Gps);
                push(hits, s, e, Detector::Gps, Label::Gps);
            }
        }
        last = Some((s, e, v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(line: &str) -> Vec<&str> {
        crate::scrub::spans(line, find)
    }

    #[test]
    fn pairs_and_keyed_coordinates() {
        assert_eq!(found("at 52.37403,4.88969 now"), ["52.37403", "4.88969"]);
        assert_eq!(found("geo: 52.3740° N, 4.8897° E"), ["52.3740", "4.8897"]);
        assert_eq!(
            found("POINT(-93.66535 65.32069)"),
            ["-93.66535", "65.32069"]
        );
        assert_eq!(
            found("\"lat\": -0.39611, \"lng\": -139.82954"),
            ["-0.39611", "-139.82954"]
        );
        assert_eq!(found("GPSLatitude=56.9674 Ref=N"), ["56.9674"]);
    }

    #[test]
    fn loads_versions_and_timings_stay() {
        for line in [
            "load average: 0.52, 0.58, 0.59",
            "version 1.2.3.4 and 10.0.0.1",
            "took 0.0123 s, 12.5 ms",
            "ratio 0.1234 of 300.5678",
        ] {
            assert!(found(line).is_empty(), "{line}: {:?}", found(line));
        }
    }
}
