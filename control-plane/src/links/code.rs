//! Short codes: 7 base62 characters (62⁷ ≈ 3.5 × 10¹² codes) drawn from the OS-seeded
//! thread RNG, and the short URL `{domain}/{code}` a recipient's text carries.

use rand::Rng;

/// Characters of a code.
pub const LEN: usize = 7;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A fresh random code.
pub fn generate() -> String {
    let mut rng = rand::thread_rng();
    (0..LEN)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// Whether `s` has the shape of a code (the redirect answers 404 without a lookup if not).
pub fn is_code(s: &str) -> bool {
    s.len() == LEN && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The short URL of `code` on `domain`.
pub fn short_url(domain: &str, code: &str) -> String {
    format!("{domain}/{code}")
}

/// A stand-in short URL of the real length (previews and the content check's estimate).
pub fn sample_url(domain: &str) -> String {
    short_url(domain, &"x".repeat(LEN))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_seven_base62_characters() {
        for _ in 0..1000 {
            let c = generate();
            assert!(is_code(&c), "{c}");
        }
        assert!(!is_code("abc"));
        assert!(!is_code("abc-def"));
        assert!(!is_code("abcdefgh"));
        assert_eq!(
            sample_url("https://sl.example").len(),
            "https://sl.example/".len() + 7
        );
    }
}
