//! The class masks of 64 bytes by vector compares: the same steps at 16 bytes (SSE2) or 32
//! bytes (AVX2) per vector.

use std::arch::x86_64::*;

use super::{CLASSES, Class};

macro_rules! classify_with {
    ($name:ident, $feature:literal, $vec:ty, $width:literal, $load:ident, $splat:ident,
     $eq:ident, $sub:ident, $min:ident, $or:ident, $movemask:ident, $gt:ident,
     $xor:ident, $andnot:ident) => {
        #[target_feature(enable = $feature)]
        pub(super) fn $name(chunk: &[u8; 64]) -> [u64; CLASSES] {
            let splat = |b: u8| $splat(i8::from_ne_bytes([b]));
            let within = |v: $vec, low: u8, n: u8| {
                let d = $sub(v, splat(low));
                $eq($min(d, splat(n - 1)), d)
            };
            let mut block = [0u64; CLASSES];
            for q in 0..64 / $width {
                // SAFETY: `q * $width + $width <= 64`, so the unaligned load stays inside
                // `chunk`.
                let v = unsafe { $load(chunk.as_ptr().add(q * $width).cast()) };
                let eq = |b: u8| $eq(v, splat(b));
                let digit = within(v, b'0', 10);
                let upper = within(v, b'A', 26);
                let lower = $or(v, splat(0x20));
                let letter = within(lower, b'a', 26);
                let phrase_end = $or(
                    $eq(lower, splat(b'r')),
                    $or($eq(lower, splat(b's')), $eq(lower, splat(b'u'))),
                );
                let colon = eq(b':');
                let space = eq(b' ');
                let dash = eq(b'-');
                let tilde = eq(b'~');
                let underscore = eq(b'_');
                let word = $or($or(digit, letter), underscore);
                let backslash = eq(b'\\');
                let tab = eq(b'\t');
                // Below 0x20 (tab aside) or DEL: `v ^ 0x80` is signed-below `0x20 ^ 0x80`.
                let control = $andnot(tab, $or($gt(splat(0xa0), $xor(v, splat(0x80))), eq(0x7f)));
                let token = $or($or(word, $or(dash, tilde)), $or(eq(b'+'), eq(b'/')));
                // Each mask goes to its word as soon as it is computed: a list of all
                // of them first would hold more vectors than there are registers.
                let mut put = |class: Class, m: $vec| {
                    let bits = u64::from($movemask(m).cast_unsigned());
                    block[class as usize] |= (bits & (u64::MAX >> (64 - $width))) << (q * $width);
                };
                put(Class::Digit, digit);
                put(Class::Token, token);
                put(Class::Separator, $or(colon, eq(b'=')));
                put(Class::Colon, colon);
                put(Class::Space, space);
                put(Class::At, eq(b'@'));
                put(Class::Dot, eq(b'.'));
                put(Class::Dash, dash);
                put(Class::Tilde, tilde);
                put(Class::Underscore, underscore);
                put(Class::CardStretch, $or(digit, $or(space, dash)));
                put(Class::Word, word);
                put(Class::PhraseEnd, phrase_end);
                put(Class::Lt, eq(b'<'));
                put(Class::Tab, tab);
                put(Class::Paren, eq(b'('));
                put(Class::Backslash, backslash);
                put(
                    Class::Escape,
                    $or($or(eq(b'%'), eq(b'&')), $or(eq(b'#'), backslash)),
                );
                put(Class::Control, control);
                put(Class::Upper, upper);
                put(
                    Class::PhoneStretch,
                    $or(
                        $or(digit, $or(space, dash)),
                        $or(
                            $or(eq(b'.'), eq(b'/')),
                            $or($or(eq(b'('), eq(b')')), eq(b'+')),
                        ),
                    ),
                );
            }
            block
        }
    };
}

classify_with!(
    classify_sse2,
    "sse2",
    __m128i,
    16,
    _mm_loadu_si128,
    _mm_set1_epi8,
    _mm_cmpeq_epi8,
    _mm_sub_epi8,
    _mm_min_epu8,
    _mm_or_si128,
    _mm_movemask_epi8,
    _mm_cmpgt_epi8,
    _mm_xor_si128,
    _mm_andnot_si128
);
classify_with!(
    classify_avx2,
    "avx2",
    __m256i,
    32,
    _mm256_loadu_si256,
    _mm256_set1_epi8,
    _mm256_cmpeq_epi8,
    _mm256_sub_epi8,
    _mm256_min_epu8,
    _mm256_or_si256,
    _mm256_movemask_epi8,
    _mm256_cmpgt_epi8,
    _mm256_xor_si256,
    _mm256_andnot_si256
);
