//! Check digits and validity rules that turn number-shaped strings into confident PII findings.

/// Luhn (mod 10) check over ASCII digits.
pub fn luhn(digits: &[u8]) -> bool {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &b)| {
            let d = (b - b'0') as u32;
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Card brand from the issuer prefix and length, if it is a known scheme.
pub fn card_brand(d: &[u8]) -> Option<&'static str> {
    let n = d.len();
    let p = |k: usize| -> u32 {
        d[..k]
            .iter()
            .fold(0, |acc, &b| acc * 10 + (b - b'0') as u32)
    };
    if !(12..=19).contains(&n) {
        return None;
    }
    if n == 12 {
        // Only Maestro issues 12-digit cards.
        return matches!(
            p(4),
            5018 | 5020 | 5038 | 5893 | 6304 | 6759 | 6761 | 6762 | 6763
        )
        .then_some("maestro");
    }
    match () {
        _ if d[0] == b'4' && matches!(n, 13 | 16 | 19) => Some("visa"),
        _ if (51..=55).contains(&p(2)) && n == 16 => Some("mastercard"),
        _ if (2221..=2720).contains(&p(4)) && n == 16 => Some("mastercard"),
        _ if matches!(p(2), 34 | 37) && n == 15 => Some("amex"),
        _ if (p(4) == 6011 || p(2) == 65 || (644..=649).contains(&p(3))) && n >= 16 => {
            Some("discover")
        }
        _ if (3528..=3589).contains(&p(4)) && n >= 16 => Some("jcb"),
        _ if matches!(p(4), 1800 | 2131) && n == 15 => Some("jcb"),
        _ if (matches!(p(2), 36 | 38 | 39) || (300..=305).contains(&p(3))) && n >= 14 => {
            Some("diners")
        }
        _ if p(2) == 62 && n >= 16 => Some("unionpay"),
        _ if matches!(
            p(4),
            5018 | 5020 | 5038 | 5893 | 6304 | 6759 | 6761 | 6762 | 6763
        ) =>
        {
            Some("maestro")
        }
        _ => None,
    }
}

/// US Social Security Number validity: area not 000, 666 or 900-999; group not 00; serial not 0000.
pub fn ssn_valid(area: &[u8], group: &[u8], serial: &[u8]) -> bool {
    if area.len() != 3 || group.len() != 2 || serial.len() != 4 {
        return false;
    }
    area != b"000" && area != b"666" && area[0] != b'9' && group != b"00" && serial != b"0000"
}

/// IBAN length by country code (ISO 13616 registry lengths).
fn iban_length(cc: &[u8]) -> Option<usize> {
    const TABLE: &[(&[u8; 2], usize)] = &[
        (b"AD", 24),
        (b"AE", 23),
        (b"AL", 28),
        (b"AT", 20),
        (b"AZ", 28),
        (b"BA", 20),
        (b"BE", 16),
        (b"BG", 22),
        (b"BH", 22),
        (b"BR", 29),
        (b"BY", 28),
        (b"CH", 21),
        (b"CR", 22),
        (b"CY", 28),
        (b"CZ", 24),
        (b"DE", 22),
        (b"DK", 18),
        (b"DO", 28),
        (b"EE", 20),
        (b"EG", 29),
        (b"ES", 24),
        (b"FI", 18),
        (b"FO", 18),
        (b"FR", 27),
        (b"GB", 22),
        (b"GE", 22),
        (b"GI", 23),
        (b"GL", 18),
        (b"GR", 27),
        (b"GT", 28),
        (b"HR", 21),
        (b"HU", 28),
        (b"IE", 22),
        (b"IL", 23),
        (b"IQ", 23),
        (b"IS", 26),
        (b"IT", 27),
        (b"JO", 30),
        (b"KW", 30),
        (b"KZ", 20),
        (b"LB", 28),
        (b"LC", 32),
        (b"LI", 21),
        (b"LT", 20),
        (b"LU", 20),
        (b"LV", 21),
        (b"MC", 27),
        (b"MD", 24),
        (b"ME", 22),
        (b"MK", 19),
        (b"MR", 27),
        (b"MT", 31),
        (b"MU", 30),
        (b"NL", 18),
        (b"NO", 15),
        (b"PK", 24),
        (b"PL", 28),
        (b"PS", 29),
        (b"PT", 25),
        (b"QA", 29),
        (b"RO", 24),
        (b"RS", 22),
        (b"SA", 24),
        (b"SC", 31),
        (b"SE", 24),
        (b"SI", 19),
        (b"SK", 24),
        (b"SM", 27),
        (b"ST", 25),
        (b"SV", 28),
        (b"TL", 23),
        (b"TN", 24),
        (b"TR", 26),
        (b"UA", 29),
        (b"VA", 22),
        (b"VG", 24),
        (b"XK", 20),
    ];
    TABLE.iter().find(|(c, _)| &c[..] == cc).map(|&(_, n)| n)
}

/// IBAN validity: known country, registry length, and ISO 7064 mod 97 == 1.
/// `compact` holds the IBAN without spaces, uppercase.
pub fn iban_valid(compact: &[u8]) -> bool {
    if compact.len() < 15 || !compact.iter().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    if iban_length(&compact[..2]) != Some(compact.len())
        || !compact[2..4].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let rearranged = compact[4..].iter().chain(&compact[..4]);
    let mut rem: u32 = 0;
    for &b in rearranged {
        if b.is_ascii_digit() {
            rem = (rem * 10 + (b - b'0') as u32) % 97;
        } else if b.is_ascii_uppercase() {
            let v = (b - b'A') as u32 + 10;
            rem = (rem * 100 + v) % 97;
        } else {
            return false;
        }
    }
    rem == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_known_values() {
        assert!(luhn(b"4111111111111111"));
        assert!(luhn(b"378282246310005"));
        assert!(!luhn(b"4111111111111112"));
        assert!(!luhn(b""));
    }

    #[test]
    fn brands() {
        assert_eq!(card_brand(b"4111111111111111"), Some("visa"));
        assert_eq!(card_brand(b"5555555555554444"), Some("mastercard"));
        assert_eq!(card_brand(b"378282246310005"), Some("amex"));
        assert_eq!(card_brand(b"6011111111111117"), Some("discover"));
        assert_eq!(card_brand(b"1234567890123456"), None);
    }

    #[test]
    fn ssn_ranges() {
        assert!(ssn_valid(b"123", b"45", b"6789"));
        assert!(!ssn_valid(b"000", b"45", b"6789"));
        assert!(!ssn_valid(b"666", b"45", b"6789"));
        assert!(!ssn_valid(b"912", b"45", b"6789"));
        assert!(!ssn_valid(b"123", b"00", b"6789"));
        assert!(!ssn_valid(b"123", b"45", b"0000"));
    }

    #[test]
    fn iban_mod97() {
        assert!(iban_valid(b"DE89370400440532013000"));
        assert!(iban_valid(b"GB82WEST12345698765432"));
        assert!(!iban_valid(b"DE89370400440532013001"));
        assert!(!iban_valid(b"XX89370400440532013000"));
    }
}
