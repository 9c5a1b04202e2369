//! When a scrubbed line still gives a planted value away: the value whole, or any piece of it
//! that identifies it (an e-mail's local part, a URL credential's user or password, a run of
//! eight characters of a secret or card number, the host half of a MAC address). Shared by the
//! property tests, the corpus table and the fuzz checks, so that they all count a partial leak
//! (`alice.bob12[email:h:…]`) as a leak.

/// Scrubber tokens (`[email]`, `[ipv4:h:1f3a9c0d]`) are set aside before pieces are looked
/// for, so that a piece never matches a token's name or digest by chance.
fn without_tokens(out: &str) -> String {
    let mut kept = String::with_capacity(out.len());
    let mut rest = out;
    while let Some(open) = rest.find('[') {
        kept.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let token = after.find(']').map(|close| &after[..close]).filter(|t| {
            let (name, digest) = t.split_once(":h:").unwrap_or((t, "0"));
            !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                && !digest.is_empty()
                && digest.bytes().all(|b| b.is_ascii_hexdigit())
        });
        match token {
            Some(t) => {
                kept.push(' ');
                rest = &after[t.len() + 1..];
            }
            None => {
                kept.push('[');
                rest = after;
            }
        }
    }
    kept.push_str(rest);
    kept
}

/// Runs of `n` characters of `s` (all of `s` when it is shorter).
fn runs(s: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= n {
        return vec![s.to_owned()];
    }
    chars.windows(n).map(|w| w.iter().collect()).collect()
}

/// Digits of `s`, with runs of digits joined across one space, dash or dot between them (how
/// card numbers are written), other characters as `|`.
fn digit_text(s: &str) -> String {
    let b: Vec<char> = s.chars().collect();
    let mut out = String::new();
    for (i, &c) in b.iter().enumerate() {
        let joins = matches!(c, ' ' | '-' | '.')
            && i > 0
            && b[i - 1].is_ascii_digit()
            && b.get(i + 1).is_some_and(char::is_ascii_digit);
        if c.is_ascii_digit() {
            out.push(c);
        } else if !joins {
            out.push('|');
        }
    }
    out
}

/// The pieces of `value` whose survival gives it away, for a value found by `detector`.
pub fn pieces(detector: &str, value: &str) -> Vec<String> {
    let mut out = vec![value.to_owned()];
    match detector {
        "email" => {
            let local = value.rsplit_once('@').map_or(value, |(l, _)| l);
            let local = local.trim_matches('"');
            if local.chars().count() >= 3 {
                out.push(local.to_owned());
            }
            out.extend(
                local
                    .split(['.', '_', '+', '-'])
                    .filter(|s| s.chars().count() >= 4 && !s.bytes().all(|b| b.is_ascii_digit()))
                    .map(str::to_owned),
            );
        }
        "url_credentials" => {
            let (user, password) = value.split_once(':').unwrap_or((value, ""));
            if user.chars().count() >= 3 {
                out.push(user.to_owned());
            }
            out.extend(runs(password, 8).into_iter().filter(|r| r.len() >= 3));
        }
        "ipv4" => {
            if let Some((net, _)) = value.rsplit_once('.') {
                out.push(format!("{net}."));
            }
        }
        "ipv6" if value.len() > 12 => out.extend(runs(value, 12)),
        "mac" => {
            let half = value.len() / 2;
            if value.is_char_boundary(half) {
                out.push(value[half..].trim_start_matches([':', '-', '.']).to_owned());
            }
        }
        "credit_card" => {}
        "user_name" => {}
        _ => out.extend(runs(value, 8)),
    }
    out.retain(|p| !p.is_empty());
    out
}

/// The first piece of the value planted at `span` in `input` that `output` still holds, if
/// any. A piece that `input` also holds outside every copy of the value proves nothing and
/// is passed over; hex values (addresses) and e-mail addresses are compared without case.
pub fn surviving_piece(
    detector: &str,
    input: &str,
    span: std::ops::Range<usize>,
    output: &str,
) -> Option<String> {
    let value = &input[span];
    if value.chars().count() < 3 {
        // `uid=0`: text this short occurs anywhere; callers judge it by its context.
        return None;
    }
    // Outside every copy of the value: a second copy of it is no innocent context.
    let outside = input.replace(value, "\u{0}");
    let output = without_tokens(output);
    let fold = matches!(detector, "ipv6" | "mac" | "email");
    let (hay, elsewhere) = if fold {
        (output.to_ascii_lowercase(), outside.to_ascii_lowercase())
    } else {
        (output, outside)
    };
    if detector == "credit_card" {
        let (hay, elsewhere) = (digit_text(&hay), digit_text(&elsewhere));
        let digits: String = value.chars().filter(char::is_ascii_digit).collect();
        return runs(&digits, 8)
            .into_iter()
            .find(|r| hay.contains(r.as_str()) && !elsewhere.contains(r.as_str()));
    }
    pieces(detector, value).into_iter().find(|p| {
        let p = if fold {
            p.to_ascii_lowercase()
        } else {
            p.clone()
        };
        hay.contains(&p) && !elsewhere.contains(&p)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leak(detector: &str, input: &str, value: &str, output: &str) -> Option<String> {
        let at = input.find(value).unwrap();
        surviving_piece(detector, input, at..at + value.len(), output)
    }

    #[test]
    fn a_local_part_left_before_its_token_is_a_leak() {
        let input = "mail from alice.bob12@example.com ok";
        let value = "alice.bob12@example.com";
        assert!(
            leak(
                "email",
                input,
                value,
                "mail from alice.bob12[email:h:1f3a] ok"
            )
            .is_some()
        );
        assert!(leak("email", input, value, "mail from [email:h:1f3a] ok").is_none());
        assert!(leak("email", input, value, "mail from [email] ok").is_none());
    }

    #[test]
    fn a_piece_the_line_holds_elsewhere_proves_nothing() {
        let input = "user alice logged in as alice.smith@example.com";
        let value = "alice.smith@example.com";
        assert_eq!(
            leak("email", input, value, "user alice logged in as [email]"),
            None
        );
        assert!(leak("email", input, value, "user alice logged in as smith").is_some());
    }

    #[test]
    fn eight_characters_of_a_secret_or_card_give_it_away() {
        let input = "token=9f2c4e6a8b0d1f3e next";
        let value = "9f2c4e6a8b0d1f3e";
        assert!(leak("secret", input, value, "token=[secret]b0d1f3e1 next").is_none());
        assert!(leak("secret", input, value, "token=[secret]8b0d1f3e next").is_some());
        let input = "card 4111 1111 1111 1111 ok";
        let value = "4111 1111 1111 1111";
        assert!(leak("credit_card", input, value, "card [credit_card] 1111 ok").is_none());
        assert!(
            leak(
                "credit_card",
                input,
                value,
                "card [credit_card] 1111 1111 ok"
            )
            .is_some()
        );
    }

    #[test]
    fn the_host_half_of_a_mac_gives_it_away() {
        let input = "hwaddr 03:51:d8:ae:8e:4f up";
        let value = "03:51:d8:ae:8e:4f";
        assert!(leak("mac", input, value, "hwaddr 03:51:d8:[mac] up").is_none());
        assert!(leak("mac", input, value, "hwaddr [mac]:AE:8E:4F up").is_some());
    }
}
