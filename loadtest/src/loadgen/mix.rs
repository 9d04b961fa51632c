//! The message mix for the engine targets (HTTP ingress, RabbitMQ queues): deterministic,
//! seeded [`SubmitRequest`]s with configurable shares of short GSM-7, long (2–4 part) GSM-7
//! and UCS-2 texts, to destinations spread over real operator prefixes of eight countries
//! ([`super::pace`] spaces them to a fixed rate). Message `i` of a seed is always the same (id, text,
//! destination, lane), whatever the concurrency, so runs can be repeated and compared.

use std::str::FromStr;

use semalink_protocol::{
    contracts::{Body, EncodingHint, Priority, RouteHints, SubmitRequest, VERSION},
    segment::{self, SegmentOptions},
};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

/// Number prefixes (E.164 digits) of operators in KE, NG, UG, TZ, ZA, GH, RW and ET, and the
/// national significant number length after the calling code. Each is checked against the
/// protocol crate's operator table in the tests.
pub const PREFIXES: &[(&str, usize)] = &[
    ("254712", 12), // KE Safaricom
    ("254733", 12), // KE Airtel
    ("254770", 12), // KE Telkom
    ("234803", 13), // NG MTN
    ("234802", 13), // NG Airtel
    ("234805", 13), // NG Glo
    ("234809", 13), // NG 9mobile
    ("256772", 12), // UG MTN
    ("256752", 12), // UG Airtel
    ("255754", 12), // TZ Vodacom
    ("255713", 12), // TZ Tigo
    ("255784", 12), // TZ Airtel
    ("2782", 11),   // ZA Vodacom
    ("2783", 11),   // ZA MTN
    ("2784", 11),   // ZA Cell C
    ("23324", 12),  // GH MTN
    ("23320", 12),  // GH Vodafone
    ("23326", 12),  // GH AirtelTigo
    ("25078", 12),  // RW MTN
    ("25073", 12),  // RW Airtel
    ("25191", 12),  // ET Ethio Telecom
    ("25170", 12),  // ET Safaricom
];

/// Short GSM-7 texts (one part each, with the counter appended).
const SHORT: &[&str] = &[
    "Your verification code is",
    "Payment received, thank you. Ref",
    "Reminder: your appointment is tomorrow at 10:00. Ref",
    "Karibu! Salio lako ni KES 1,250. Kumbukumbu",
    "Your parcel is ready for collection. Code",
];

/// Words the long GSM-7 texts are built from (basic GSM-7 table only, one septet each).
const WORDS: &[&str] = &[
    "the",
    "market",
    "opens",
    "at",
    "eight",
    "tomorrow",
    "please",
    "bring",
    "your",
    "card",
    "and",
    "receipt",
    "harvest",
    "season",
    "rains",
    "expected",
    "farmers",
    "cooperative",
    "meeting",
    "Nairobi",
    "Lagos",
    "Kampala",
    "Accra",
    "Kigali",
    "Addis",
    "Dar",
    "Durban",
];

/// UCS-2 texts: Swahili and Yoruba with characters outside GSM-7, Amharic, emoji (a surrogate
/// pair counts two UCS-2 units, 3GPP TS 23.038 §6.2.3).
const UCS2: &[&str] = &[
    "Habari! Karibu sana 😊 Asante kwa kununua.",
    "ሰላም! ክፍያዎ ተቀብሏል። እናመሰግናለን።",
    "Ẹ kú àárọ̀! Owó yín ti dé.",
    "🎉 Hongera! Umeshinda zawadi 🎁",
    "እንኳን ደስ አለዎት! ትዕዛዝዎ ተልኳል 🚚",
];

/// Shares (weights) of each kind of text; they need not add up to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MixSpec {
    /// One-part GSM-7 texts.
    pub short: u32,
    /// Two- to four-part GSM-7 texts.
    pub long: u32,
    /// UCS-2 texts (one or two parts).
    pub ucs2: u32,
}

impl Default for MixSpec {
    fn default() -> Self {
        MixSpec {
            short: 70,
            long: 20,
            ucs2: 10,
        }
    }
}

impl FromStr for MixSpec {
    type Err = String;

    /// Parses `short=70,long=20,ucs2=10` (kinds left out get 0).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut spec = MixSpec {
            short: 0,
            long: 0,
            ucs2: 0,
        };
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (kind, weight) = item
                .split_once('=')
                .ok_or_else(|| format!("{item:?}: expected kind=weight"))?;
            let weight: u32 = weight
                .trim()
                .parse()
                .map_err(|_| format!("{item:?}: weight must be a whole number"))?;
            match kind.trim() {
                "short" => spec.short = weight,
                "long" => spec.long = weight,
                "ucs2" => spec.ucs2 = weight,
                other => return Err(format!("unknown kind {other:?} (short, long, ucs2)")),
            }
        }
        if spec.short + spec.long + spec.ucs2 == 0 {
            return Err("the mix needs at least one non-zero share".into());
        }
        Ok(spec)
    }
}

/// Which kind of text a message has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// One-part GSM-7.
    Short,
    /// Multi-part GSM-7.
    Long,
    /// UCS-2.
    Ucs2,
}

/// Everything that shapes the generated messages.
#[derive(Debug, Clone)]
pub struct MixOptions {
    /// Kind shares.
    pub spec: MixSpec,
    /// Seed: the same seed gives the same messages.
    pub seed: u64,
    /// Share of messages in the `high` lane (0.0–1.0).
    pub priority_share: f64,
    /// Sender id.
    pub sender: String,
    /// Account the messages belong to.
    pub account_id: Uuid,
}

impl Default for MixOptions {
    fn default() -> Self {
        MixOptions {
            spec: MixSpec::default(),
            seed: 1,
            priority_share: 0.0,
            sender: "SEMALINK".into(),
            account_id: Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0001),
        }
    }
}

/// One generated message and what it should cost.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The request.
    pub request: SubmitRequest,
    /// Its kind of text.
    pub kind: Kind,
    /// How many SMS parts the text needs (the protocol crate's segmenter decides).
    pub segments: u16,
}

/// Totals over a range of generated messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MixTotals {
    /// Messages.
    pub messages: u64,
    /// Of which short GSM-7.
    pub short: u64,
    /// Of which long GSM-7.
    pub long: u64,
    /// Of which UCS-2.
    pub ucs2: u64,
    /// Of which in the `high` lane.
    pub priority: u64,
    /// SMS parts expected in total.
    pub segments: u64,
}

impl MixTotals {
    /// Adds one message.
    pub fn add(&mut self, g: &Generated) {
        self.messages += 1;
        match g.kind {
            Kind::Short => self.short += 1,
            Kind::Long => self.long += 1,
            Kind::Ucs2 => self.ucs2 += 1,
        }
        self.priority += u64::from(g.request.priority == Priority::High);
        self.segments += u64::from(g.segments);
    }
}

impl MixOptions {
    /// Message number `index` of this mix.
    pub fn generate(&self, index: u64) -> Generated {
        // One generator per message, seeded from (seed, index): deterministic under any
        // interleaving of concurrent senders.
        let mut rng = fastrand::Rng::with_seed(
            self.seed ^ index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let s = self.spec;
        let pick = rng.u32(..(s.short + s.long + s.ucs2).max(1));
        let kind = if pick < s.short {
            Kind::Short
        } else if pick < s.short + s.long {
            Kind::Long
        } else {
            Kind::Ucs2
        };
        let text = match kind {
            Kind::Short => format!("{} {index:08}", SHORT[rng.usize(..SHORT.len())]),
            Kind::Long => long_text(&mut rng, index),
            Kind::Ucs2 => format!("{} #{index}", UCS2[rng.usize(..UCS2.len())]),
        };
        let (prefix, len) = PREFIXES[rng.usize(..PREFIXES.len())];
        let mut destination = format!("+{prefix}");
        while destination.len() < len + 1 {
            destination.push(char::from(b'0' + rng.u8(..10)));
        }
        let priority = if rng.f64() < self.priority_share {
            Priority::High
        } else {
            Priority::Normal
        };
        let message_id = uuid::Builder::from_random_bytes(rng.u128(..).to_le_bytes()).into_uuid();
        let segments = segment::split(&text, 0, &SegmentOptions::default())
            .map(|s| s.segments.len() as u16)
            .unwrap_or(0);
        Generated {
            request: SubmitRequest {
                version: VERSION,
                message_id,
                account_id: self.account_id,
                destination,
                sender: self.sender.clone(),
                body: Body::Text(text),
                encoding: EncodingHint::Auto,
                priority,
                route: RouteHints::default(),
                expires_at: None,
                client_reference: Some(format!("loadgen-{index}")),
                attempt: 0,
                created_at: OffsetDateTime::now_utc(),
            },
            kind,
            segments,
        }
    }
}

/// A GSM-7 text of 2 to 4 parts: more than 160 septets (one whole SMS) and between
/// 153·(p−1)+1 and 153·p septets, 153 being a part's room after the 8-bit concatenation UDH
/// (3GPP TS 23.040 §9.2.3.24.1). Every character used is one septet.
fn long_text(rng: &mut fastrand::Rng, index: u64) -> String {
    let parts = rng.usize(2..=4);
    let target = rng.usize((153 * (parts - 1) + 1).max(161)..=153 * parts);
    let mut text = format!("Notice {index:08}:");
    while text.len() < target {
        text.push(' ');
        text.push_str(WORDS[rng.usize(..WORDS.len())]);
    }
    text.truncate(target - 1);
    let mut text = text.trim_end().to_owned();
    while text.len() < target {
        text.push('.');
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashSet};

    use semalink_protocol::mno;

    use super::*;

    #[test]
    fn every_prefix_maps_to_an_operator_of_the_eight_countries() {
        let mut countries = BTreeSet::new();
        let mut operators = HashSet::new();
        for (prefix, len) in PREFIXES {
            let padded = format!("{prefix:0<len$}");
            let dest = mno::lookup_digits(&padded).unwrap_or_else(|| panic!("{prefix}"));
            let op = dest
                .operator()
                .unwrap_or_else(|| panic!("{prefix}: no operator"));
            countries.insert(dest.country());
            assert!(
                operators.insert(op.id),
                "{prefix}: operator {} twice",
                op.id
            );
        }
        let want: BTreeSet<_> = ["ET", "GH", "KE", "NG", "RW", "TZ", "UG", "ZA"].into();
        assert_eq!(countries, want);
    }

    #[test]
    fn every_generated_destination_is_a_valid_number() {
        // The engine's ingress refuses numbers its numbering plans do not know.
        let mix = MixOptions::default();
        for i in 0..2_000 {
            let d = mix.generate(i).request.destination;
            mno::check_destination(&d).unwrap_or_else(|e| panic!("{d}: {e}"));
        }
    }

    #[test]
    fn mix_spec_parses_and_rejects() {
        let s: MixSpec = "short=5, ucs2=1".parse().unwrap();
        assert_eq!((s.short, s.long, s.ucs2), (5, 0, 1));
        assert!("short=0".parse::<MixSpec>().is_err());
        assert!("tiny=3".parse::<MixSpec>().is_err());
        assert!("short".parse::<MixSpec>().is_err());
    }

    #[test]
    fn generated_messages_are_valid_deterministic_and_follow_the_shares() {
        let opts = MixOptions {
            priority_share: 0.25,
            ..MixOptions::default()
        };
        let mut totals = MixTotals::default();
        let mut ids = HashSet::new();
        for i in 0..2000 {
            let g = opts.generate(i);
            g.request
                .validate()
                .unwrap_or_else(|e| panic!("{i}: {e:?}"));
            assert!(ids.insert(g.request.message_id));
            let digits = &g.request.destination[1..];
            assert!(
                mno::lookup_digits(digits)
                    .and_then(|d| d.operator())
                    .is_some()
            );
            let Body::Text(text) = &g.request.body else {
                panic!("text body")
            };
            let seg = segment::split(text, 0, &SegmentOptions::default()).unwrap();
            match g.kind {
                Kind::Short => assert_eq!(g.segments, 1, "{text}"),
                Kind::Long => {
                    assert!((2..=4).contains(&g.segments), "{text}");
                    assert_eq!(usize::from(g.segments), text.len().div_ceil(153), "{text}");
                }
                Kind::Ucs2 => assert_eq!(seg.encoding, segment::Encoding::Ucs2, "{text}"),
            }
            if g.kind != Kind::Ucs2 {
                assert_eq!(seg.encoding, segment::Encoding::Gsm7, "{text}");
            }
            totals.add(&g);
        }
        let again = opts.generate(1234);
        assert_eq!(
            again.request.message_id,
            opts.generate(1234).request.message_id
        );
        assert_eq!(again.request.body, opts.generate(1234).request.body);
        // 70/20/10 and 25 % priority over 2000 draws: well inside ±5 points.
        assert!((1300..1500).contains(&totals.short), "{totals:?}");
        assert!((300..500).contains(&totals.long), "{totals:?}");
        assert!((100..300).contains(&totals.ucs2), "{totals:?}");
        assert!((400..600).contains(&totals.priority), "{totals:?}");
        assert!(
            totals.segments > totals.messages + totals.long,
            "{totals:?}"
        );
    }
}
