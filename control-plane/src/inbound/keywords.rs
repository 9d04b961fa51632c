//! Opt-out and opt-in keywords of inbound replies.
//!
//! The reply's first word decides, case-insensitively and without surrounding punctuation
//! (`Stop.`, `stop please`, `SIMAMA`): STOP, STOPALL, UNSUBSCRIBE, END, QUIT, CANCEL and the
//! Swahili SIMAMA opt the number out; START and UNSTOP opt it back in; `[inbound]` adds more
//! of either. Anything else is a reply.

use serde::Deserialize;

/// The opt-out keywords every deployment knows.
pub const STOP_WORDS: [&str; 7] = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "END",
    "QUIT",
    "CANCEL",
    "SIMAMA",
];

/// The opt-in keywords every deployment knows.
pub const START_WORDS: [&str; 2] = ["START", "UNSTOP"];

/// `[inbound]`: extra keywords.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InboundConfig {
    /// More opt-out keywords (e.g. a local language's), any case.
    pub stop_keywords: Vec<String>,
    /// More opt-in keywords.
    pub start_keywords: Vec<String>,
}

/// What a reply asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// Opt the number out; the keyword as matched (upper case).
    OptOut(String),
    /// Opt it back in.
    OptIn(String),
    /// A reply.
    Reply,
}

impl InboundConfig {
    /// What `text` asks for.
    pub fn intent(&self, text: &str) -> Intent {
        let Some(word) = text.split_whitespace().next() else {
            return Intent::Reply;
        };
        let word = word
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_uppercase();
        if word.is_empty() {
            return Intent::Reply;
        }
        let is = |builtin: &[&str], extra: &[String]| {
            builtin.contains(&word.as_str()) || extra.iter().any(|k| k.to_uppercase() == word)
        };
        if is(&STOP_WORDS, &self.stop_keywords) {
            Intent::OptOut(word)
        } else if is(&START_WORDS, &self.start_keywords) {
            Intent::OptIn(word)
        } else {
            Intent::Reply
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_word_decides_in_any_case_and_punctuation() {
        let c = InboundConfig::default();
        assert_eq!(c.intent("STOP"), Intent::OptOut("STOP".into()));
        assert_eq!(c.intent("  stop. "), Intent::OptOut("STOP".into()));
        assert_eq!(
            c.intent("Simama tafadhali"),
            Intent::OptOut("SIMAMA".into())
        );
        assert_eq!(
            c.intent("unsubscribe me"),
            Intent::OptOut("UNSUBSCRIBE".into())
        );
        assert_eq!(c.intent("Start"), Intent::OptIn("START".into()));
        assert_eq!(c.intent("UNSTOP!"), Intent::OptIn("UNSTOP".into()));
        assert_eq!(c.intent("Don't stop"), Intent::Reply);
        assert_eq!(c.intent("Stopwatch"), Intent::Reply);
        assert_eq!(c.intent(""), Intent::Reply);
        assert_eq!(c.intent("!!!"), Intent::Reply);
    }

    #[test]
    fn extra_keywords_come_from_the_config() {
        let c = InboundConfig {
            stop_keywords: vec!["acha".into()],
            start_keywords: vec!["Anza".into()],
        };
        assert_eq!(c.intent("ACHA"), Intent::OptOut("ACHA".into()));
        assert_eq!(c.intent("anza"), Intent::OptIn("ANZA".into()));
    }
}
