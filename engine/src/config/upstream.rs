//! One upstream's settings (`[[upstreams]]`): SMPP binds or Celcom's HTTP API, and its
//! message policies.

use std::time::Duration;

use semalink_protocol::msgid::IdPolicy;
use semalink_protocol::segment::{ConcatMethod, Encoding, SegmentOptions};
use serde::Deserialize;

use super::{Addressing, Secret};
use super::{
    default_bind_type, default_binds, default_dlr_poll_ms, default_enquire_link_ms,
    default_reconnect_max_ms, default_reconnect_min_ms, default_response_timeout_ms,
    default_window,
};

/// How binds of an upstream are opened (SMPP 3.4 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindType {
    /// One `bind_transceiver` per bind: submits and receipts on one session.
    Transceiver,
    /// A `bind_transmitter` and a `bind_receiver` per bind.
    TransmitterReceiver,
}

/// How GSM-7 text is put on the wire for this upstream (SMS-FACTS: upstreams differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataCoding {
    /// `data_coding` 0x00 with one septet per octet (most upstreams).
    #[default]
    SmscDefault,
    /// `data_coding` 0x00 with septets packed 8 into 7 octets.
    SmscDefaultPacked,
    /// `data_coding` 0x01 (IA5), unpacked septets.
    Ia5,
}

impl DataCoding {
    /// The `data_coding` octet for GSM-7 parts (UCS-2 parts always use 0x08).
    pub fn gsm7_data_coding(self) -> u8 {
        match self {
            DataCoding::SmscDefault | DataCoding::SmscDefaultPacked => 0x00,
            DataCoding::Ia5 => 0x01,
        }
    }

    /// Whether GSM-7 septets are packed.
    pub fn packed(self) -> bool {
        self == DataCoding::SmscDefaultPacked
    }
}

/// What kind of door an upstream is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpstreamKind {
    /// SMPP 3.4 binds (`host`, `port`, `system_id`, `password`).
    #[default]
    Smpp,
    /// Celcom's HTTP API (`url`, `api_key`, `partner_id`): `sendsms/` submits, receipts
    /// pulled with `getdlr/`; `window` is the number of requests in flight.
    CelcomHttp,
}

/// One upstream: SMPP (its session settings, mapped to the bind pool's `SessionConfig`) or
/// Celcom's HTTP API, and its message policies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// Unique name, used in routes, metrics and status events.
    pub name: String,
    /// SMPP or Celcom's HTTP API.
    #[serde(default)]
    pub kind: UpstreamKind,
    /// SMSC host name or address (SMPP).
    #[serde(default)]
    pub host: String,
    /// SMSC port (SMPP).
    #[serde(default)]
    pub port: u16,
    /// `system_id` of the bind (SMPP).
    #[serde(default)]
    pub system_id: String,
    /// `password` of the bind (SMPP; never printed).
    #[serde(default)]
    pub password: Secret,
    /// Base URL of the HTTP API, ending in `/` (`https://…/api/services/`).
    #[serde(default)]
    pub url: Option<String>,
    /// `apikey` of the HTTP API (never printed).
    #[serde(default)]
    pub api_key: Option<Secret>,
    /// `partnerID` of the HTTP API.
    #[serde(default)]
    pub partner_id: Option<String>,
    /// How often receipts are pulled with `getdlr/` (HTTP).
    #[serde(default = "default_dlr_poll_ms")]
    pub dlr_poll_ms: u64,
    /// Receipts pushed by the API instead of pulled (HTTP): the token of the callback URL
    /// given to the provider, `POST /v1/upstreams/<name>/dlr?token=<this>` on the engine's
    /// HTTP listener (at least 16 characters; never printed). With it, accepted messages are
    /// not asked for with `getdlr/` (the balance probe keeps running).
    #[serde(default)]
    pub dlr_callback_token: Option<Secret>,
    /// Another upstream's name: messages routed here go there while this one has no bind up
    /// (or, for HTTP, does not answer).
    #[serde(default)]
    pub fallback: Option<String>,
    /// `system_type` of the bind.
    #[serde(default)]
    pub system_type: String,
    /// Transceiver, or transmitter + receiver.
    #[serde(default = "default_bind_type")]
    pub bind_type: BindType,
    /// Number of binds (sessions; each transmitter+receiver pair counts once).
    #[serde(default = "default_binds")]
    pub binds: u32,
    /// Outstanding requests per bind.
    #[serde(default = "default_window")]
    pub window: u32,
    /// `enquire_link` interval.
    #[serde(default = "default_enquire_link_ms")]
    pub enquire_link_ms: u64,
    /// How long to wait for a response PDU.
    #[serde(default = "default_response_timeout_ms")]
    pub response_timeout_ms: u64,
    /// First reconnect delay (jittered, doubling).
    #[serde(default = "default_reconnect_min_ms")]
    pub reconnect_min_ms: u64,
    /// Longest reconnect delay.
    #[serde(default = "default_reconnect_max_ms")]
    pub reconnect_max_ms: u64,
    /// How `submit_sm_resp` ids relate to receipt ids.
    #[serde(default)]
    pub id_policy: IdPolicy,
    /// Cap on submits per second over all routes using this upstream; absent = no cap.
    #[serde(default)]
    pub tps_cap: Option<f64>,
    /// GSM-7 wire form.
    #[serde(default)]
    pub data_coding: DataCoding,
    /// How long-message parts are tied together.
    #[serde(default)]
    pub concat: ConcatMethod,
    /// TON / NPI of each kind of sender id.
    #[serde(default)]
    pub addressing: Addressing,
    /// The upstream answers `query_sm` (SMPP 3.4 §4.8): parts whose receipt never came are
    /// asked for instead of expired unasked.
    #[serde(default)]
    pub query_sm: bool,
}

impl UpstreamConfig {
    /// [`Self::enquire_link_ms`] as a duration.
    pub fn enquire_link(&self) -> Duration {
        Duration::from_millis(self.enquire_link_ms)
    }
    /// [`Self::response_timeout_ms`] as a duration.
    pub fn response_timeout(&self) -> Duration {
        Duration::from_millis(self.response_timeout_ms)
    }
    /// How to split text for this upstream (concatenation method, packing).
    pub fn segment_options(&self) -> SegmentOptions {
        SegmentOptions {
            method: self.concat,
            packed: self.data_coding.packed(),
            ..SegmentOptions::default()
        }
    }

    /// The `data_coding` to send for a part the splitter encoded as `encoding` (GSM-7 parts
    /// follow the upstream's preference; UCS-2 is always 0x08).
    pub fn wire_data_coding(&self, encoding: Encoding) -> u8 {
        match encoding {
            Encoding::Gsm7 => self.data_coding.gsm7_data_coding(),
            Encoding::Ucs2 => encoding.data_coding(),
        }
    }

    /// Reconnect back-off bounds.
    pub fn reconnect_backoff(&self) -> (Duration, Duration) {
        (
            Duration::from_millis(self.reconnect_min_ms),
            Duration::from_millis(self.reconnect_max_ms),
        )
    }
}
