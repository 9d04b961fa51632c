//! Personalisation tokens in a campaign's text: `{first_name}`, `{last_name}`, `{phone}`,
//! `{email}`, any custom attribute of the contacts (`{city}`), each with an optional fallback
//! for contacts without a value (`{first_name|there}`), and short links (`{link:https://…}`,
//! each rendered as the recipient's own short URL: see `crate::links`). A text is parsed
//! once into pieces; rendering a recipient's text is then a walk over them.

use std::collections::HashSet;

use semalink_protocol::analysis::Encoding;

use crate::campaigns::dispatch::store::Recipient;

/// Tokens every contact has (besides its custom attributes).
pub const BUILT_IN: [&str; 4] = ["first_name", "last_name", "phone", "email"];

/// Stand-in length of a token without a fallback when a text is measured before knowing its
/// recipients (the content check's segment estimate).
pub const TOKEN_ESTIMATE: usize = 12;

/// Longest token name.
const MAX_NAME: usize = 64;

/// One piece of a parsed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Text(String),
    /// A token and its fallback.
    Token {
        /// Field or attribute name.
        name: String,
        /// Used when the recipient has no value.
        fallback: Option<String>,
    },
    /// `{link:URL}`: a short link to URL, one per recipient.
    Link {
        /// The long URL, as written.
        url: String,
    },
}

/// What marks a short link token.
pub const LINK_PREFIX: &str = "link:";

/// A parsed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

/// Why a text does not parse: the character position of the offending `{`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// Position (in characters) of the `{` that starts no valid token.
    pub position: usize,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Template {
    /// Parses `text`; a `{` that does not start `{name}` or `{name|fallback}` is an error.
    pub fn parse(text: &str) -> Result<Template, Malformed> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] != '{' {
                literal.push(chars[i]);
                i += 1;
                continue;
            }
            let close = chars[i + 1..].iter().position(|c| *c == '}' || *c == '{');
            let Some(len) = close.filter(|len| chars[i + 1 + len] == '}') else {
                return Err(Malformed { position: i });
            };
            let inner: String = chars[i + 1..i + 1 + len].iter().collect();
            if let Some(url) = inner.strip_prefix(LINK_PREFIX) {
                let url = url.trim();
                if url.is_empty() || url.chars().any(char::is_whitespace) {
                    return Err(Malformed { position: i });
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Link {
                    url: url.to_owned(),
                });
                i += len + 2;
                continue;
            }
            let (name, fallback) = match inner.split_once('|') {
                Some((name, fallback)) => (name.trim(), Some(fallback.to_owned())),
                None => (inner.trim(), None),
            };
            if !valid_name(name) {
                return Err(Malformed { position: i });
            }
            if !literal.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Token {
                name: name.to_owned(),
                fallback,
            });
            i += len + 2;
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Ok(Template { pieces })
    }

    /// The token names used, in order of first appearance.
    pub fn tokens(&self) -> Vec<&str> {
        let mut seen = HashSet::new();
        self.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Token { name, .. } if seen.insert(name.as_str()) => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The long URLs of the `{link:…}` tokens, one per occurrence, in order.
    pub fn links(&self) -> Vec<&str> {
        self.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Link { url } => Some(url.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Whether the text differs by recipient (a token or a short link).
    pub fn is_personalised(&self) -> bool {
        self.pieces
            .iter()
            .any(|p| matches!(p, Piece::Token { .. } | Piece::Link { .. }))
    }

    /// The text for one recipient: `value(name)` gives the recipient's value (blank counts as
    /// none, then the fallback or nothing is used); `links[i]` is the recipient's short URL
    /// of the `i`-th `{link:…}` (the long URL if none is given).
    pub fn render<'v>(&self, value: impl Fn(&str) -> Option<&'v str>, links: &[String]) -> String {
        let mut out = String::new();
        let mut link = 0;
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Link { url } => {
                    out.push_str(links.get(link).map_or(url.as_str(), String::as_str));
                    link += 1;
                }
                Piece::Token { name, fallback } => {
                    match value(name).map(str::trim).filter(|v| !v.is_empty()) {
                        Some(v) => out.push_str(v),
                        None => out.push_str(fallback.as_deref().unwrap_or("")),
                    }
                }
            }
        }
        out
    }

    /// The text with every token at its fallback, or [`TOKEN_ESTIMATE`] characters when it
    /// has none, and every link as a short URL of the real length on `link_domain`: what the
    /// content check measures.
    pub fn estimate(&self, link_domain: &str) -> String {
        let stand_in = "x".repeat(TOKEN_ESTIMATE);
        let short = crate::links::code::sample_url(link_domain);
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Link { .. } => out.push_str(&short),
                Piece::Token { fallback, .. } => {
                    out.push_str(fallback.as_deref().unwrap_or(&stand_in));
                }
            }
        }
        out
    }
}

/// The recipient's value of token `name` (contact fields, then custom attributes).
pub fn value_of<'r>(r: &'r Recipient, name: &str) -> Option<&'r str> {
    match name {
        "first_name" => r.first_name.as_deref(),
        "last_name" => r.last_name.as_deref(),
        "email" => r.email.as_deref(),
        "phone" => Some(r.destination.as_str()),
        other => r.attributes.as_ref()?.get(other)?.as_str(),
    }
}

/// The wire name of an encoding (`gsm7`, `ucs2`), as stored with a message.
pub fn encoding_name(e: Encoding) -> &'static str {
    match e {
        Encoding::Gsm7 => "gsm7",
        Encoding::Ucs2 => "ucs2",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_render_with_values_and_fallbacks() {
        let t = Template::parse("Hi {first_name|there}, {city} deal: {code}!").unwrap();
        assert_eq!(t.tokens(), ["first_name", "city", "code"]);
        let text = t.render(
            |name| match name {
                "first_name" => Some("Amina"),
                "city" => Some("Nakuru"),
                _ => None,
            },
            &[],
        );
        assert_eq!(text, "Hi Amina, Nakuru deal: !");
        assert_eq!(t.render(|_| Some("  "), &[]), "Hi there,  deal: !");
    }

    #[test]
    fn malformed_braces_are_found() {
        assert_eq!(Template::parse("a {b").unwrap_err().position, 2);
        assert_eq!(Template::parse("{}").unwrap_err().position, 0);
        assert_eq!(Template::parse("x {a b}").unwrap_err().position, 2);
        assert_eq!(Template::parse("{a{b}}").unwrap_err().position, 0);
        assert!(!Template::parse("plain").unwrap().is_personalised());
    }

    #[test]
    fn the_estimate_uses_fallbacks_or_a_stand_in() {
        let t = Template::parse("{first_name|friend} {last_name}").unwrap();
        assert_eq!(
            t.estimate("https://sl.example"),
            format!("friend {}", "x".repeat(TOKEN_ESTIMATE))
        );
    }

    #[test]
    fn links_render_as_the_recipients_short_urls() {
        let t = Template::parse("Hi {first_name|you}: {link:https://shop.example/sale?a=1&b=2} or {link: https://x.example/y }").unwrap();
        assert!(t.is_personalised());
        assert_eq!(
            t.links(),
            ["https://shop.example/sale?a=1&b=2", "https://x.example/y"]
        );
        let short = [
            "https://sl.example/Ab3dE9x".to_owned(),
            "https://sl.example/0000001".to_owned(),
        ];
        assert_eq!(
            t.render(|_| None, &short),
            "Hi you: https://sl.example/Ab3dE9x or https://sl.example/0000001"
        );
        assert_eq!(
            t.estimate("https://sl.example"),
            "Hi you: https://sl.example/xxxxxxx or https://sl.example/xxxxxxx"
        );
        assert!(Template::parse("{link:}").is_err());
        assert!(Template::parse("{link:https://a b}").is_err());
        assert!(
            !Template::parse("{link:https://a.example}")
                .unwrap()
                .tokens()
                .contains(&"link")
        );
    }
}
