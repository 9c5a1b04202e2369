//! The scrubber's front end: one pass over a line that records, as bitmasks of 64 bytes per
//! word, where each byte class the detectors start from stands (digits, token bytes, `=` and `:`,
//! spaces, `@`, dots, dashes, …). Detectors then walk set bits and runs instead of each scanning
//! the line; on x86-64 the pass classifies 16 bytes per step with SSE2, which every x86-64 CPU has.

/// A byte class the detectors trigger on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Class {
    /// `0`–`9`.
    Digit,
    /// Bytes an opaque credential is made of: ASCII letters, digits, `_ - + / ~`.
    Token,
    /// `=` and `:`, where a key meets its value.
    Separator,
    /// `:`.
    Colon,
    /// ` `.
    Space,
    /// `@`.
    At,
    /// `.`.
    Dot,
    /// `-`.
    Dash,
    /// `~`.
    Tilde,
    /// `_`.
    Underscore,
    /// Digits, spaces and dashes: what a grouped card number is made of.
    CardStretch,
    /// Word bytes: ASCII letters, digits and `_`.
    Word,
    /// `r`, `s` and `u` in either case: the last letters of the phrases before a user name or
    /// a credential (`for`, `user`, `Bearer`, `-u`).
    PhraseEnd,
    /// `<`: markup.
    Lt,
    /// A tab.
    Tab,
    /// `(`.
    Paren,
    /// `\\`.
    Backslash,
    /// `%`, `&`, `#` and `\\`: where an escape (`%40`, `&#64;`, `\u0040`, `#033[`) can start.
    Escape,
    /// Control bytes other than tab, and DEL: what [`super::normalise`] strips.
    Control,
    /// `A`–`Z`.
    Upper,
    /// Digits and what a written phone number holds besides: ` - . ( ) / +`.
    PhoneStretch,
}

const CLASSES: usize = 21;

/// Where each class stands in the last line scanned; buffers are reused from line to line.
#[derive(Default)]
pub(super) struct Classes {
    len: usize,
    words: usize,
    /// `masks[class * words + w]`: bit `i` of word `w` is byte `64 * w + i`.
    masks: Vec<u64>,
    /// How many leading bytes [`Classes::mute`] cleared: the line's timestamp.
    muted: usize,
}

impl Classes {
    /// Classifies every byte of `line`, replacing what the last scan recorded.
    pub(super) fn scan(&mut self, line: &[u8]) {
        self.len = line.len();
        self.words = line.len().div_ceil(64);
        self.masks.clear();
        self.masks.resize(self.words * CLASSES, 0);
        self.muted = 0;
        let mut chunks = line.chunks_exact(64);
        let mut w = 0;
        for chunk in chunks.by_ref() {
            let block = classify(chunk.try_into().expect("chunks_exact gives 64 bytes"));
            self.store(w, &block);
            w += 1;
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            // 0x80 (a UTF-8 continuation byte) belongs to no class, so the padding sets no bit.
            let mut last = [0x80u8; 64];
            last[..rest.len()].copy_from_slice(rest);
            let block = classify(&last);
            self.store(w, &block);
        }
    }

    /// Clears every class of the first `n` bytes, which hold nothing to detect (a leading
    /// timestamp): detectors then neither start there nor count it.
    pub(super) fn mute(&mut self, n: usize) {
        let n = n.min(self.len);
        self.muted = n;
        if n == 0 {
            return;
        }
        for class in 0..CLASSES {
            let words = &mut self.masks[class * self.words..(class + 1) * self.words];
            for (w, word) in words.iter_mut().enumerate().take(n.div_ceil(64)) {
                *word &= !low_bits(n - w * 64);
            }
        }
    }

    /// The length of the leading timestamp [`Classes::mute`] cleared (0 if none).
    pub(super) fn stamp(&self) -> usize {
        self.muted
    }

    /// The classes of `line`, for tests of one detector.
    #[cfg(test)]
    pub(super) fn of(line: &[u8]) -> Classes {
        let mut c = Classes::default();
        c.scan(line);
        c
    }

    fn store(&mut self, w: usize, block: &[u64; CLASSES]) {
        for (class, &bits) in block.iter().enumerate() {
            self.masks[class * self.words + w] = bits;
        }
    }

    fn class(&self, class: Class) -> &[u64] {
        let at = class as usize * self.words;
        &self.masks[at..at + self.words]
    }

    /// Whether any byte of the line is in `class`.
    pub(super) fn any(&self, class: Class) -> bool {
        self.class(class).iter().any(|&w| w != 0)
    }

    /// How many bytes of the line are in `class`.
    pub(super) fn count(&self, class: Class) -> u32 {
        self.class(class).iter().map(|w| w.count_ones()).sum()
    }

    /// How many bytes of `start..end` are in `class`.
    pub(super) fn count_in(&self, class: Class, start: usize, end: usize) -> u32 {
        let words = self.class(class);
        let mut n = 0;
        let mut i = start;
        while i < end {
            let w = i / 64;
            let take = (64 - i % 64).min(end - i);
            let bits = (words[w] >> (i % 64)) & low_bits(take);
            n += bits.count_ones();
            i += take;
        }
        n
    }

    /// The positions of the bytes in `class`, in order.
    pub(super) fn ones(&self, class: Class) -> impl Iterator<Item = usize> + '_ {
        let of = self.class(class);
        Positions::new(of.len(), move |w| of[w])
    }

    /// The positions of the bytes in `class` that follow a byte in `prev`, in order.
    pub(super) fn ones_after(&self, class: Class, prev: Class) -> impl Iterator<Item = usize> + '_ {
        let (of, after) = (self.class(class), self.class(prev));
        Positions::new(self.words, move |w| {
            let carry = if w > 0 { after[w - 1] >> 63 } else { 0 };
            of[w] & (after[w] << 1 | carry)
        })
    }

    /// The positions of the bytes in `class` that do not follow one in `class`: where runs
    /// start, in order.
    pub(super) fn starts(&self, class: Class) -> impl Iterator<Item = usize> + '_ {
        let of = self.class(class);
        Positions::new(self.words, move |w| {
            let carry = if w > 0 { of[w - 1] >> 63 } else { 0 };
            of[w] & !(of[w] << 1 | carry)
        })
    }

    /// Where the runs of digits that start in `start..end` start, in order.
    pub(super) fn digit_runs(&self, start: usize, end: usize) -> impl Iterator<Item = usize> + '_ {
        let mut from = start;
        std::iter::from_fn(move || {
            let s = self.next_in(Class::Digit, from).filter(|&s| s < end)?;
            from = self.next_out(Class::Digit, s);
            Some(s)
        })
    }

    /// The first byte at or after `from` in `class`.
    #[inline]
    pub(super) fn next_in(&self, class: Class, from: usize) -> Option<usize> {
        self.next(class, from, false)
    }

    /// The first byte at or after `from` not in `class` (the line's length if none).
    #[inline]
    pub(super) fn next_out(&self, class: Class, from: usize) -> usize {
        self.next(class, from, true).unwrap_or(self.len)
    }

    /// Maximal runs of at least `min` (1..=64) consecutive bytes in `class`, as `(start, end)`.
    /// Shorter runs cost nothing: each word first keeps only the bytes that start `min` in a row.
    pub(super) fn long_runs(
        &self,
        class: Class,
        min: usize,
    ) -> impl Iterator<Item = (usize, usize)> + '_ {
        debug_assert!((1..=64).contains(&min));
        let words = self.class(class);
        let mut w = 0;
        let mut starts = 0u64;
        let mut from = 0;
        std::iter::from_fn(move || {
            loop {
                while starts == 0 {
                    if w == words.len() {
                        return None;
                    }
                    starts = run_starts(words, w, min);
                    w += 1;
                }
                let at = (w - 1) * 64 + starts.trailing_zeros() as usize;
                starts &= starts - 1;
                if at < from {
                    continue;
                }
                let start = self.prev_out(class, at);
                let end = self.next_out(class, at);
                from = end;
                return Some((start, end));
            }
        })
    }

    /// The start of the run of `class` that holds `at`.
    fn prev_out(&self, class: Class, at: usize) -> usize {
        let words = self.class(class);
        let mut w = at / 64;
        let mut bits = !words[w] & low_bits(at % 64);
        loop {
            if bits != 0 {
                return w * 64 + 64 - bits.leading_zeros() as usize;
            }
            if w == 0 {
                return 0;
            }
            w -= 1;
            bits = !words[w];
        }
    }

    #[inline]
    fn next(&self, class: Class, from: usize, invert: bool) -> Option<usize> {
        if from >= self.len {
            return None;
        }
        let words = self.class(class);
        let flip = if invert { !0 } else { 0 };
        let mut w = from / 64;
        let mut bits = (words[w] ^ flip) & (!0u64 << (from % 64));
        loop {
            if bits != 0 {
                let at = w * 64 + bits.trailing_zeros() as usize;
                return (at < self.len).then_some(at);
            }
            w += 1;
            if w == self.words {
                return None;
            }
            bits = words[w] ^ flip;
        }
    }
}

/// Bits of word `w` whose byte starts `min` (at most 64) bytes in a row that are all set in
/// `words`: the word and the next one side by side, halved windows doubled in log steps.
fn run_starts(words: &[u64], w: usize, min: usize) -> u64 {
    let next = words.get(w + 1).copied().unwrap_or(0);
    let mut all = u128::from(words[w]) | u128::from(next) << 64;
    let mut covered = 1;
    while covered * 2 <= min {
        all &= all >> covered;
        covered *= 2;
    }
    if covered < min {
        all &= all >> (min - covered);
    }
    all as u64
}

fn low_bits(n: usize) -> u64 {
    if n >= 64 { !0 } else { (1u64 << n) - 1 }
}

/// The set bits of a word, lowest first.
/// The set bits of words computed one at a time by `word`, as byte positions in order: the
/// loop every detector walks, written out because a `flat_map` of per-word iterators cost more
/// than the detectors' own work.
struct Positions<F> {
    word: F,
    words: usize,
    next_word: usize,
    base: usize,
    bits: u64,
}

impl<F: Fn(usize) -> u64> Positions<F> {
    fn new(words: usize, word: F) -> Self {
        Positions {
            word,
            words,
            next_word: 0,
            base: 0,
            bits: 0,
        }
    }
}

impl<F: Fn(usize) -> u64> Iterator for Positions<F> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.bits == 0 {
            if self.next_word == self.words {
                return None;
            }
            self.bits = (self.word)(self.next_word);
            self.base = self.next_word * 64;
            self.next_word += 1;
        }
        let b = self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        Some(self.base + b)
    }
}

/// The classes of one byte, as bits indexed by [`Class`]; the portable path and the reference
/// the SIMD path is tested against.
#[cfg(any(test, not(target_arch = "x86_64")))]
const fn classes_of(b: u8) -> u32 {
    let digit = b.is_ascii_digit();
    let mut c = 0u32;
    if digit {
        c |= 1 << Class::Digit as u32;
    }
    if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'/' | b'~') {
        c |= 1 << Class::Token as u32;
    }
    if b == b'=' || b == b':' {
        c |= 1 << Class::Separator as u32;
    }
    let single = [
        (b':', Class::Colon),
        (b' ', Class::Space),
        (b'@', Class::At),
        (b'.', Class::Dot),
        (b'-', Class::Dash),
        (b'~', Class::Tilde),
        (b'_', Class::Underscore),
        (b'<', Class::Lt),
        (b'\t', Class::Tab),
        (b'(', Class::Paren),
        (b'\\', Class::Backslash),
    ];
    let mut i = 0;
    while i < single.len() {
        if b == single[i].0 {
            c |= 1 << single[i].1 as u32;
        }
        i += 1;
    }
    if digit || b == b' ' || b == b'-' {
        c |= 1 << Class::CardStretch as u32;
    }
    if b.is_ascii_alphanumeric() || b == b'_' {
        c |= 1 << Class::Word as u32;
    }
    if matches!(b | 0x20, b'r' | b's' | b'u') {
        c |= 1 << Class::PhraseEnd as u32;
    }
    if matches!(b, b'%' | b'&' | b'#' | b'\\') {
        c |= 1 << Class::Escape as u32;
    }
    if (b < 0x20 && b != b'\t') || b == 0x7f {
        c |= 1 << Class::Control as u32;
    }
    if b.is_ascii_uppercase() {
        c |= 1 << Class::Upper as u32;
    }
    if digit || matches!(b, b' ' | b'-' | b'.' | b'(' | b')' | b'/' | b'+') {
        c |= 1 << Class::PhoneStretch as u32;
    }
    c
}

#[cfg(any(test, not(target_arch = "x86_64")))]
static TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = classes_of(b as u8);
        b += 1;
    }
    t
};

/// The class masks of 64 bytes, one byte at a time.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn classify_bytes(chunk: &[u8; 64]) -> [u64; CLASSES] {
    let mut block = [0u64; CLASSES];
    for (i, &b) in chunk.iter().enumerate() {
        let c = TABLE[usize::from(b)];
        for (class, bits) in block.iter_mut().enumerate() {
            *bits |= u64::from((c >> class) & 1) << i;
        }
    }
    block
}

#[cfg(not(target_arch = "x86_64"))]
fn classify(chunk: &[u8; 64]) -> [u64; CLASSES] {
    classify_bytes(chunk)
}

#[cfg(target_arch = "x86_64")]
fn classify(chunk: &[u8; 64]) -> [u64; CLASSES] {
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has just been found to support AVX2.
        unsafe { simd::classify_avx2(chunk) }
    } else {
        // SAFETY: SSE2 is part of the x86-64 baseline, so every CPU that runs this binary has it.
        unsafe { simd::classify_sse2(chunk) }
    }
}

#[cfg(target_arch = "x86_64")]
mod simd;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference(line: &[u8], class: Class) -> Vec<usize> {
        (0..line.len())
            .filter(|&i| TABLE[usize::from(line[i])] & (1 << class as u32) != 0)
            .collect()
    }

    const ALL: [Class; CLASSES] = [
        Class::Digit,
        Class::Token,
        Class::Separator,
        Class::Colon,
        Class::Space,
        Class::At,
        Class::Dot,
        Class::Dash,
        Class::Tilde,
        Class::Underscore,
        Class::CardStretch,
        Class::Word,
        Class::PhraseEnd,
        Class::Lt,
        Class::Tab,
        Class::Paren,
        Class::Backslash,
        Class::Escape,
        Class::Control,
        Class::Upper,
        Class::PhoneStretch,
    ];

    #[test]
    fn every_byte_value_is_classified_like_the_table() {
        let bytes: Vec<u8> = (0..=255u8).chain(0..=255u8).collect();
        let mut c = Classes::default();
        c.scan(&bytes);
        for class in ALL {
            assert_eq!(c.ones(class).collect::<Vec<_>>(), reference(&bytes, class));
        }
        for at in [0, 64, 128, 192, 256, 320, 384, 448] {
            let block: [u8; 64] = bytes[at..at + 64].try_into().unwrap();
            let want = classify_bytes(&block);
            assert_eq!(classify(&block), want);
            #[cfg(target_arch = "x86_64")]
            {
                // SAFETY: SSE2 is baseline on x86-64; AVX2 only runs where detected.
                assert_eq!(unsafe { simd::classify_sse2(&block) }, want);
                if std::arch::is_x86_feature_detected!("avx2") {
                    assert_eq!(unsafe { simd::classify_avx2(&block) }, want);
                }
            }
        }
    }

    #[test]
    fn runs_cross_word_edges() {
        let mut line = vec![b'x'; 60];
        line.extend_from_slice(&[b'7'; 10]);
        line.push(b' ');
        line.extend_from_slice(b"12");
        let mut c = Classes::default();
        c.scan(&line);
        assert_eq!(
            c.long_runs(Class::Digit, 1).collect::<Vec<_>>(),
            [(60, 70), (71, 73)]
        );
        assert_eq!(c.long_runs(Class::Digit, 3).collect::<Vec<_>>(), [(60, 70)]);
        assert_eq!(c.long_runs(Class::Digit, 11).count(), 0);
        assert_eq!(c.count_in(Class::Digit, 62, 72), 9);
        assert_eq!(c.next_out(Class::Digit, 71), 73);
        assert_eq!(c.next_in(Class::Digit, 73), None);
    }

    proptest! {
        #[test]
        fn long_runs_are_the_runs_that_are_long(
            line in proptest::collection::vec(prop_oneof![Just(b'7'), Just(b'x')], 0..300),
            min in 1usize..=64,
        ) {
            let mut c = Classes::default();
            c.scan(&line);
            let mut want = Vec::new();
            let mut i = 0;
            while i < line.len() {
                let s = i;
                while i < line.len() && line[i] == b'7' {
                    i += 1;
                }
                if i - s >= min.max(1) {
                    want.push((s, i));
                }
                i += 1;
            }
            prop_assert_eq!(c.long_runs(Class::Digit, min).collect::<Vec<_>>(), want);
        }

        #[test]
        fn scan_matches_the_table(line in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut c = Classes::default();
            c.scan(&line);
            let digit_before = |i: usize| i > 0 && line[i - 1].is_ascii_digit();
            let dots: Vec<usize> = reference(&line, Class::Dot).into_iter().filter(|&i| digit_before(i)).collect();
            prop_assert_eq!(c.ones_after(Class::Dot, Class::Digit).collect::<Vec<_>>(), dots);
            let word = |i: usize| line[i].is_ascii_alphanumeric() || line[i] == b'_';
            let starts: Vec<usize> = (0..line.len()).filter(|&i| word(i) && (i == 0 || !word(i - 1))).collect();
            prop_assert_eq!(c.starts(Class::Word).collect::<Vec<_>>(), starts);
            for class in ALL {
                let want = reference(&line, class);
                prop_assert_eq!(c.ones(class).collect::<Vec<_>>(), want.clone());
                prop_assert_eq!(c.count(class) as usize, want.len());
                prop_assert_eq!(c.any(class), !want.is_empty());
            }
        }
    }

    #[test]
    fn mute_clears_every_class_before_its_end_and_nothing_after() {
        let line = format!("{} 12:34 x={}", "Jan  1 00:00:23", "9".repeat(70));
        let mut c = Classes::of(line.as_bytes());
        let before: Vec<Vec<usize>> = ALL.iter().map(|&k| c.ones(k).collect()).collect();
        c.mute(15);
        for (k, was) in ALL.iter().zip(before) {
            let now: Vec<usize> = c.ones(*k).collect();
            let kept: Vec<usize> = was.into_iter().filter(|&i| i >= 15).collect();
            assert_eq!(now, kept, "{k:?}");
        }
        c.mute(70);
        assert_eq!(c.ones(Class::Digit).next(), Some(70));
    }

    #[test]
    fn run_starts_marks_each_byte_that_starts_a_long_enough_run() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Dense words, so that long runs occur.
            seed | seed.rotate_left(7) | seed.rotate_left(19)
        };
        for _ in 0..200 {
            let words = [next(), next()];
            let all = u128::from(words[0]) | u128::from(words[1]) << 64;
            for min in 1..=64 {
                let want = (0..64).fold(0u64, |acc, i| {
                    let run = (i..i + min).all(|b| all >> b & 1 == 1);
                    acc | u64::from(run) << i
                });
                assert_eq!(
                    run_starts(&words, 0, min),
                    want,
                    "min {min}, words {words:x?}"
                );
            }
        }
    }
}
