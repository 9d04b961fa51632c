//! The content check a campaign passes before it may be sent: it runs on submit
//! (`pending_content_check → approved | rejected`) and names every problem it finds, one
//! line each, in `rejection_reason`. A campaign that passes but matches a review rule
//! ([`review_reasons`]) waits in `pending_content_check` for a human (the staff queue of
//! [`crate::campaigns::review`]).

use semalink_protocol::analysis;
use serde::Deserialize;

use crate::campaigns::template::{BUILT_IN, Template};
use crate::sender_ids::types::{SenderId, SenderIdStatus, TrafficType};

/// `[campaigns]` rules of the content check.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContentRules {
    /// Most parts a rendered message may need.
    pub segment_limit: u32,
    /// Words refused anywhere in a text (case-insensitive, whole words).
    pub blocked_words: Vec<String>,
    /// Link domains refused (a domain also blocks its subdomains).
    pub blocked_domains: Vec<String>,
    /// Words that send a campaign to human review instead of approving it (case-insensitive,
    /// whole words).
    pub review_words: Vec<String>,
    /// Whether an organisation's first campaign (none of its campaigns approved before) waits
    /// for human review.
    pub review_first_campaign: bool,
}

impl Default for ContentRules {
    fn default() -> ContentRules {
        ContentRules {
            segment_limit: 6,
            blocked_words: Vec::new(),
            blocked_domains: Vec::new(),
            review_words: Vec::new(),
            review_first_campaign: false,
        }
    }
}

/// What the check looks at.
#[derive(Debug)]
pub struct Submission<'a> {
    /// The text with its tokens.
    pub message: &'a str,
    /// The campaign's sender ID, when it names one of the organisation's.
    pub sender: Option<&'a SenderId>,
    /// Whether the campaign has an audience (lists or a filter).
    pub has_audience: bool,
    /// The short-link domain (`[links] domain`): a `{link:…}` counts as its short URL.
    pub link_domain: &'a str,
}

/// Custom token names the check must ask the database about (not built in).
pub fn custom_tokens(message: &str) -> Vec<String> {
    Template::parse(message)
        .map(|t| {
            t.tokens()
                .into_iter()
                .filter(|n| !BUILT_IN.contains(n))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Every problem of `s`; `unknown` are the custom tokens no contact has. Empty: approved.
pub fn check(s: &Submission<'_>, unknown: &[String], rules: &ContentRules) -> Vec<String> {
    let mut problems = Vec::new();
    let text = s.message.trim();
    if text.is_empty() {
        problems.push("the message text is empty".to_owned());
    }
    match s.sender {
        None => problems.push("no sender ID: choose an approved sender ID".to_owned()),
        Some(sender) if sender.status == SenderIdStatus::Suspended => {
            problems.push(format!("the sender ID {} is suspended", sender.name))
        }
        Some(sender) if sender.status != SenderIdStatus::Approved => problems.push(format!(
            "the sender ID {} is not approved (it is {})",
            sender.name,
            sender.status.as_str()
        )),
        Some(_) => {}
    }
    if !s.has_audience {
        problems.push("no audience: name contact lists or an audience filter".to_owned());
    }
    match Template::parse(s.message) {
        Err(m) => problems.push(format!(
            "malformed token at character {}: write {{name}} or {{name|fallback}}",
            m.position + 1
        )),
        Ok(template) => {
            for name in unknown {
                problems.push(format!(
                    "unknown token {{{name}}}: no contact has a field or attribute called {name}"
                ));
            }
            for url in template.links() {
                if let Err(why) = link_host(url) {
                    problems.push(format!("the link {url} {why}"));
                }
            }
            let parts = analysis::analyze(&template.estimate(s.link_domain)).segments;
            if !text.is_empty() && parts > rules.segment_limit as usize {
                problems.push(format!(
                    "the message needs {parts} parts, over the limit of {}",
                    rules.segment_limit
                ));
            }
        }
    }
    let words = words(text);
    for blocked in &rules.blocked_words {
        let b = blocked.to_lowercase();
        if words.contains(&b) {
            problems.push(format!(
                "the blocked word \"{blocked}\" appears in the text"
            ));
        }
    }
    let short_links: Vec<String> = Template::parse(s.message)
        .map(|t| t.links().iter().filter_map(|u| link_host(u).ok()).collect())
        .unwrap_or_default();
    for host in link_hosts(text).into_iter().chain(short_links) {
        if let Some(blocked) = rules.blocked_domains.iter().find(|d| {
            let d = d.to_lowercase();
            host == d || host.ends_with(&format!(".{d}"))
        }) {
            problems.push(format!("a link to the blocked domain {blocked} ({host})"));
        }
    }
    let promotional = s
        .sender
        .is_some_and(|sender| sender.traffic_type == TrafficType::Promotional);
    if promotional && !words.iter().any(|w| w == "stop") {
        problems.push(
            "a promotional sender ID needs opt-out text (e.g. \"Reply STOP to opt out\")"
                .to_owned(),
        );
    }
    problems
}

/// Why a campaign that passed [`check`] must still wait for a human, one line each (empty:
/// approve it). `first` says whether it is the organisation's first campaign.
pub fn review_reasons(message: &str, rules: &ContentRules, first: bool) -> Vec<String> {
    let mut reasons = Vec::new();
    if first && rules.review_first_campaign {
        reasons.push("the organisation's first campaign".to_owned());
    }
    let words = words(message);
    for word in &rules.review_words {
        if words.contains(&word.to_lowercase()) {
            reasons.push(format!("the review word \"{word}\" appears in the text"));
        }
    }
    reasons
}

/// The lower-cased host of a `{link:…}` URL: an absolute `http(s)://` URL naming a host with
/// a dot, without credentials, at most 2,000 characters; else why not.
fn link_host(url: &str) -> Result<String, &'static str> {
    if url.len() > 2000 {
        return Err("is longer than 2,000 characters");
    }
    let uri: axum::http::Uri = url.parse().map_err(|_| "is not a valid URL")?;
    if !matches!(uri.scheme_str(), Some("https" | "http")) {
        return Err("must start with https:// or http://");
    }
    let authority = uri.authority().ok_or("must name a host")?;
    if authority.as_str().contains('@') {
        return Err("must not hold credentials");
    }
    let host = authority.host().to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return Err("must name a host like shop.example.com");
    }
    Ok(host)
}

/// Lower-cased words of `text` (letters and digits).
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Host names of the links in `text`: `http(s)://host/...` or a bare `name.tld[/...]`.
fn link_hosts(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter_map(|word| {
            let lower = word.to_lowercase();
            let rest = lower
                .strip_prefix("https://")
                .or_else(|| lower.strip_prefix("http://"))
                .unwrap_or(&lower);
            let host: String = rest
                .split(['/', '?', '#', ':'])
                .next()
                .unwrap_or("")
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_owned();
            let labels: Vec<&str> = host.split('.').collect();
            let shaped = labels.len() >= 2
                && labels.iter().all(|l| {
                    !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
                && labels.last().is_some_and(|tld| {
                    tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic())
                });
            shaped.then_some(host)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_with_or_without_a_scheme() {
        assert_eq!(
            link_hosts("Go to https://Win.Example.com/x?y and bit.ly/abc, not 3.5 or e.g"),
            ["win.example.com", "bit.ly"]
        );
    }

    #[test]
    fn short_links_are_checked_and_counted_at_their_short_length() {
        let rules = ContentRules {
            segment_limit: 1,
            blocked_words: Vec::new(),
            blocked_domains: vec!["bad.example".into()],
            review_words: Vec::new(),
            review_first_campaign: false,
        };
        let long = format!("https://shop.example/{}", "p".repeat(300));
        let message = format!("Sale! {{link:{long}}} Reply STOP to opt out");
        let s = Submission {
            message: &message,
            sender: None,
            has_audience: true,
            link_domain: "https://sl.example",
        };
        let problems = check(&s, &[], &rules);
        assert_eq!(problems.len(), 1, "only the sender: {problems:#?}");
        let bad =
            "{link:https://x.bad.example/a} {link:ftp://files.example/x} {link:https://nodot}";
        let s = Submission { message: bad, ..s };
        let problems = check(&s, &[], &rules);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("ftp://") && p.contains("https://")),
            "{problems:#?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("https://nodot")),
            "{problems:#?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("blocked domain bad.example")),
            "{problems:#?}"
        );
    }

    #[test]
    fn every_problem_is_named() {
        let rules = ContentRules {
            segment_limit: 1,
            blocked_words: vec!["Casino".into()],
            blocked_domains: vec!["example.com".into()],
            ..ContentRules::default()
        };
        let s = Submission {
            message: &format!("casino {} at win.example.com {{city}}", "x".repeat(200)),
            sender: None,
            has_audience: false,
            link_domain: "https://sl.example",
        };
        let problems = check(&s, &["city".into()], &rules);
        assert_eq!(problems.len(), 6, "{problems:#?}");
        assert!(problems[0].contains("sender ID"));
        assert!(problems[1].contains("audience"));
        assert!(problems[2].contains("{city}"));
        assert!(problems[3].contains("parts"));
        assert!(problems[4].contains("Casino"));
        assert!(problems[5].contains("example.com"));
    }

    #[test]
    fn review_rules_name_their_reason() {
        let rules = ContentRules {
            review_words: vec!["Loan".into()],
            review_first_campaign: true,
            ..ContentRules::default()
        };
        assert!(review_reasons("Hello there", &rules, false).is_empty());
        let reasons = review_reasons("Cheap LOAN today", &rules, true);
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(reasons[0].contains("first campaign"));
        assert!(reasons[1].contains("Loan"));
        assert!(
            review_reasons("Loans", &rules, false).is_empty(),
            "whole words"
        );
        let off = ContentRules::default();
        assert!(review_reasons("loan", &off, true).is_empty());
    }
}
