//! What detectors see before they look: terminal escape sequences and control bytes removed
//! (they carry nothing a collector needs, and `ESC[36mpassword ESC[0m=…` would hide a key from
//! every rule), and a decoded view of `%40`, `\u0040`, `\x40`, `&#64;`, `&quot;` and `\"` escapes,
//! so that an address or key written escaped is found where it stands in the original.

use memchr::memchr3_iter;

use super::classes::{Class, Classes};

/// Whether `line` holds a control byte (tab aside) or a written-out escape sequence
/// (`#033[`, `\x1b[`, `\u001b[`, `\033[`, `\e[`), which [`strip_controls`] removes.
pub(super) fn has_controls(line: &[u8]) -> bool {
    // A fold without early exit, so that it compiles to vector compares.
    let raw = line.iter().fold(false, |any, &b| {
        any | ((b < 0x20 && b != b'\t') || b == 0x7f)
    });
    raw || (memchr::memchr2(b'#', b'\\', line).is_some()
        && memchr::memchr2_iter(b'#', b'\\', line).any(|i| written_escape(line, i).is_some()))
}

/// [`has_controls`] for a line whose classes are known: no pass over its bytes unless it holds
/// a control byte or an escape's first byte.
pub(super) fn has_controls_in(line: &[u8], classes: &Classes) -> bool {
    classes.any(Class::Control)
        || (classes.any(Class::Escape)
            && classes
                .ones(Class::Escape)
                .any(|i| written_escape(line, i).is_some()))
}

/// The length of a written-out escape introducer at `i` (`#033[` is 5), if one stands there
/// and is followed by a CSI sequence's parameters and final letter.
fn written_escape(line: &[u8], i: usize) -> Option<usize> {
    const FORMS: [&[u8]; 5] = [b"#033[", b"\\x1b[", b"\\u001b[", b"\\033[", b"\\e["];
    let rest = &line[i..];
    let intro = FORMS
        .iter()
        .find(|f| rest.len() >= f.len() && rest[..f.len()].eq_ignore_ascii_case(f))?
        .len();
    let end = csi_end(line, i + intro)?;
    Some(end - i)
}

/// After `ESC [` at `i`: the end of the parameters, intermediates and final byte, if the
/// sequence is complete.
fn csi_end(line: &[u8], mut i: usize) -> Option<usize> {
    while i < line.len() && (0x20..=0x3f).contains(&line[i]) {
        i += 1;
    }
    line.get(i)
        .filter(|b| (0x40..=0x7e).contains(*b))
        .map(|_| i + 1)
}

/// Appends `line` to `out` without escape sequences and control bytes (tabs kept).
pub(super) fn strip_controls(line: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        if b == 0x1b {
            i = escape_end(line, i);
            continue;
        }
        if matches!(b, b'#' | b'\\')
            && let Some(n) = written_escape(line, i)
        {
            i += n;
            continue;
        }
        if !((b < 0x20 && b != b'\t') || b == 0x7f) {
            out.push(b);
        }
        i += 1;
    }
}

/// The end of the escape sequence that starts with the ESC at `i`.
fn escape_end(line: &[u8], i: usize) -> usize {
    match line.get(i + 1) {
        Some(b'[') => csi_end(line, i + 2).unwrap_or(line.len().min(i + 2)),
        // An operating-system command ends at BEL or at `ESC \`.
        Some(b']') => {
            let mut j = i + 2;
            while j < line.len() {
                if line[j] == 0x07 {
                    return j + 1;
                }
                if line[j] == 0x1b && line.get(j + 1) == Some(&b'\\') {
                    return j + 2;
                }
                j += 1;
            }
            line.len()
        }
        // `ESC ( B`: an intermediate and a final byte. A space after ESC is the text's own (a
        // lone ESC before a word), and a digit after the intermediate is kept: taken as the
        // final byte, either would cut the word or number after it short (`ESC SP Bearer x`,
        // `ESC ( 4111…` would leave a token or fifteen digits of a card in the output).
        Some(b' ') => i + 1,
        Some(&b) if (0x21..=0x2f).contains(&b) => {
            if line.get(i + 2).is_some_and(u8::is_ascii_digit) {
                i + 2
            } else {
                (i + 3).min(line.len())
            }
        }
        Some(&b) if (0x40..=0x7e).contains(&b) => i + 2,
        _ => i + 1,
    }
}

/// A decoded view of a line: the bytes, and for each the span of the original it came from.
#[derive(Default)]
pub(super) struct Decoded {
    /// The decoded bytes.
    pub(super) bytes: Vec<u8>,
    /// `spans[i]`: the original bytes that decoded to `bytes[i]`.
    spans: Vec<(u32, u32)>,
}

impl Decoded {
    /// The original span of the decoded span `start..end` (non-empty).
    pub(super) fn original(&self, start: usize, end: usize) -> (usize, usize) {
        (self.spans[start].0 as usize, self.spans[end - 1].1 as usize)
    }

    fn push(&mut self, b: u8, from: usize, to: usize) {
        self.bytes.push(b);
        self.spans.push((from as u32, to as u32));
    }
}

/// Decodes the escapes of `line` into `into`; false (and `into` left unspecified) when the line
/// has none, so that the common line costs one vector search.
pub(super) fn decode(line: &[u8], into: &mut Decoded) -> bool {
    let Some(first) = memchr3_iter(b'%', b'\\', b'&', line).find(|&i| escape_at(line, i).is_some())
    else {
        return false;
    };
    into.bytes.clear();
    into.spans.clear();
    for (k, &b) in line[..first].iter().enumerate() {
        into.push(b, k, k + 1);
    }
    let mut i = first;
    while i < line.len() {
        match matches!(line[i], b'%' | b'\\' | b'&')
            .then(|| escape_at(line, i))
            .flatten()
        {
            Some((b, n)) => {
                into.push(b, i, i + n);
                i += n;
            }
            None => {
                into.push(line[i], i, i + 1);
                i += 1;
            }
        }
    }
    true
}

/// The byte an escape at `i` stands for, and the escape's length. Only ASCII results are
/// decoded: those are what separators, quotes and addresses are made of.
fn escape_at(line: &[u8], i: usize) -> Option<(u8, usize)> {
    let rest = &line[i..];
    let hex = |s: &[u8]| -> Option<u32> {
        std::str::from_utf8(s)
            .ok()
            .and_then(|s| u32::from_str_radix(s, 16).ok())
    };
    let (value, len) = match rest {
        [b'%', a, b, ..] if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => {
            (hex(&rest[1..3])?, 3)
        }
        [b'\\', b'u', ..] if rest.len() >= 6 && rest[2..6].iter().all(u8::is_ascii_hexdigit) => {
            (hex(&rest[2..6])?, 6)
        }
        [b'\\', b'x', a, b, ..] if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => {
            (hex(&rest[2..4])?, 4)
        }
        [b'\\', q @ (b'"' | b'\'' | b'/' | b'\\'), ..] => (u32::from(*q), 2),
        [b'&', b'#', ..] => {
            let semi = memchr::memchr(b';', &rest[..rest.len().min(9)])?;
            let digits = &rest[2..semi];
            let v = match digits.first() {
                Some(b'x' | b'X') => hex(&digits[1..])?,
                _ => std::str::from_utf8(digits).ok()?.parse().ok()?,
            };
            (v, semi + 1)
        }
        [b'&', ..] => {
            const NAMED: [(&[u8], u8); 5] = [
                (b"&quot;", b'"'),
                (b"&amp;", b'&'),
                (b"&lt;", b'<'),
                (b"&gt;", b'>'),
                (b"&apos;", b'\''),
            ];
            let (name, b) = NAMED.iter().find(|(n, _)| rest.starts_with(n))?;
            (u32::from(*b), name.len())
        }
        _ => return None,
    };
    // Printable ASCII only: a decoded newline or control byte would split what it joins.
    u8::try_from(value)
        .ok()
        .filter(|b| (0x20..0x7f).contains(b))
        .map(|b| (b, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripped(line: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        strip_controls(line, &mut out);
        out
    }

    #[test]
    fn colour_codes_and_controls_go_and_text_stays() {
        assert_eq!(
            stripped(b"\x1b[36mpassword\x1b[0m=\x1b[1;31mabc\x1b[0m"),
            b"password=abc"
        );
        assert_eq!(
            stripped(b"#033[36mtoken#033[0m: x\x07\x00y\tz"),
            b"token: xy\tz"
        );
        assert_eq!(stripped(b"\x1b]0;title\x07ok \\x1b[2Kdone"), b"ok done");
        assert!(has_controls(b"a\x1bb"));
        assert!(has_controls(b"a #033[0m b"));
        assert!(!has_controls(b"plain\ttext #1 \\n"));
        // A lone ESC at the end, and an unterminated CSI, end cleanly.
        assert_eq!(stripped(b"abc\x1b"), b"abc");
        assert_eq!(stripped(b"abc\x1b[12"), b"abc12");
        // A designation (`ESC ( B`) goes whole; a digit after the intermediate stays.
        assert_eq!(stripped(b"a\x1b(Bb"), b"ab");
        assert_eq!(stripped(b"\x1b 4111111111111111"), b" 4111111111111111");
        assert_eq!(stripped(b"\x1b(4111111111111111"), b"4111111111111111");
        assert_eq!(stripped(b"x\x1b Bearer t"), b"x Bearer t");
    }

    #[test]
    fn escapes_decode_and_map_back_to_their_original_spans() {
        let line = b"to=bob%40example.com&x=\\u0040 &#64;&quot;";
        let mut d = Decoded::default();
        assert!(decode(line, &mut d));
        assert_eq!(d.bytes, b"to=bob@example.com&x=@ @\"");
        let at = d.bytes.iter().position(|&b| b == b'@').unwrap();
        assert_eq!(d.original(at, at + 1), (6, 9));
        assert_eq!(d.original(0, d.bytes.len()), (0, line.len()));
        assert_eq!(d.original(3, 18), (3, 20), "bob%40example.com");
        assert!(!decode(b"100% sure & \\n done", &mut d));
    }
}
