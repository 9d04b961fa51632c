//! Message-id formats the simulator can answer with, so correlation is tested against every
//! variant real SMSCs use (SMS-FACTS: hex in one place and decimal in the other, leading zeros
//! dropped, case changed, Jasmin's UUIDs).

use std::{fmt::Write as _, str::FromStr};

use serde::{Deserialize, Serialize};

/// How a numeric message id is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdFormat {
    /// The radix / shape.
    pub kind: IdKind,
    /// Zero-pad to this many digits (0 = no padding). Ignored for [`IdKind::Uuid`].
    pub width: usize,
}

/// The shape of a message id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// `12345`.
    Decimal,
    /// `3039`.
    HexUpper,
    /// `3039` in lower case (`ab12`).
    HexLower,
    /// `00000000-0000-4000-8000-000000003039`: UUID-shaped, the number in the last group.
    Uuid,
}

impl IdFormat {
    /// Decimal without padding.
    pub const DECIMAL: Self = Self {
        kind: IdKind::Decimal,
        width: 0,
    };

    /// Renders `n` into `out` (cleared first).
    pub fn render(&self, n: u64, out: &mut String) {
        out.clear();
        let w = self.width;
        // Writing into a String cannot fail.
        let _ = match self.kind {
            IdKind::Decimal => write!(out, "{n:0w$}"),
            IdKind::HexUpper => write!(out, "{n:0w$X}"),
            IdKind::HexLower => write!(out, "{n:0w$x}"),
            IdKind::Uuid => write!(
                out,
                "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                (n >> 32) as u32 ^ 0x5e3a_1c00,
                (n >> 16) as u16,
                n & 0xfff,
                (n >> 12) & 0xfff,
                n & 0xffff_ffff_ffff
            ),
        };
    }

    /// Reads back the number an id rendered in this format carries.
    pub fn parse(&self, id: &str) -> Option<u64> {
        match self.kind {
            IdKind::Decimal => id.parse().ok(),
            IdKind::HexUpper | IdKind::HexLower => u64::from_str_radix(id, 16).ok(),
            IdKind::Uuid => u64::from_str_radix(id.rsplit('-').next()?, 16).ok(),
        }
    }
}

impl FromStr for IdFormat {
    type Err = String;

    /// `decimal`, `hex_upper`, `hex_lower`, `uuid`, optionally `:WIDTH` (e.g. `decimal:10`).
    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, width) = match s.split_once(':') {
            Some((k, w)) => (k, w.parse().map_err(|_| format!("bad id width in {s:?}"))?),
            None => (s, 0),
        };
        let kind = match kind {
            "decimal" => IdKind::Decimal,
            "hex_upper" | "hex" => IdKind::HexUpper,
            "hex_lower" => IdKind::HexLower,
            "uuid" => IdKind::Uuid,
            other => return Err(format!("unknown id format {other:?}")),
        };
        Ok(Self { kind, width })
    }
}

impl TryFrom<String> for IdFormat {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<IdFormat> for String {
    fn from(f: IdFormat) -> String {
        let kind = match f.kind {
            IdKind::Decimal => "decimal",
            IdKind::HexUpper => "hex_upper",
            IdKind::HexLower => "hex_lower",
            IdKind::Uuid => "uuid",
        };
        if f.width == 0 {
            kind.to_owned()
        } else {
            format!("{kind}:{}", f.width)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_parses_every_format() {
        let mut s = String::new();
        for (spec, want) in [
            ("decimal", "48879"),
            ("decimal:10", "0000048879"),
            ("hex_upper", "BEEF"),
            ("hex_lower:8", "0000beef"),
        ] {
            let f: IdFormat = spec.parse().unwrap();
            f.render(48879, &mut s);
            assert_eq!(s, want);
            assert_eq!(f.parse(&s), Some(48879));
            assert_eq!(String::from(f), spec);
        }
        let f: IdFormat = "uuid".parse().unwrap();
        f.render(48879, &mut s);
        assert_eq!(s.len(), 36);
        assert_eq!(f.parse(&s), Some(48879));
        assert!("octal".parse::<IdFormat>().is_err());
    }
}
