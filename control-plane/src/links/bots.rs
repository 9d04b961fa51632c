//! Telling people from machines: link previewers (messaging apps fetch a link the moment a
//! message arrives to draw its card), crawlers and HTTP libraries announce themselves in the
//! user agent. HEAD requests and clicks within a second of delivery are judged elsewhere
//! (the redirect and the batch writer).

/// Built-in user-agent substrings of previewers and crawlers (compared lower-cased).
pub const KNOWN: &[&str] = &[
    "facebookexternalhit",
    "facebot",
    "whatsapp",
    "telegrambot",
    "twitterbot",
    "slackbot",
    "slack-imgproxy",
    "linkedinbot",
    "discordbot",
    "skypeuripreview",
    "viber",
    "snapchat",
    "pinterest",
    "redditbot",
    "embedly",
    "googlebot",
    "google-pagerenderer",
    "googleimageproxy",
    "adsbot-google",
    "bingbot",
    "bingpreview",
    "applebot",
    "yandex",
    "baiduspider",
    "duckduckbot",
    "petalbot",
    "headlesschrome",
    "python-requests",
    "go-http-client",
    "curl/",
    "wget/",
    "bot/",
    "crawler",
    "spider",
    "preview",
];

/// Whether a request with `user_agent` is a machine's: no user agent at all, a built-in
/// previewer or crawler, or one of `extra` (configured, lower-cased by the caller or not).
pub fn is_bot(user_agent: Option<&str>, extra: &[String]) -> bool {
    let Some(ua) = user_agent.map(str::trim).filter(|u| !u.is_empty()) else {
        return true;
    };
    let ua = ua.to_ascii_lowercase();
    KNOWN.iter().any(|k| ua.contains(k)) || extra.iter().any(|k| ua.contains(&k.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previewers_and_crawlers_are_bots_and_phones_are_not() {
        for ua in [
            "WhatsApp/2.23.20.0 A",
            "facebookexternalhit/1.1 Facebot Twitterbot/1.0",
            "TelegramBot (like TwitterBot)",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "",
        ] {
            assert!(is_bot(Some(ua), &[]), "{ua}");
        }
        assert!(is_bot(None, &[]));
        for ua in [
            "Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Mobile Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (Linux; Android 10; Cubot Note 20) AppleWebKit/537.36 Chrome/96.0 Mobile Safari/537.36",
        ] {
            assert!(!is_bot(Some(ua), &[]), "{ua}");
        }
        assert!(is_bot(Some("Acme-Scanner 2"), &["acme-scanner".into()]));
    }
}
