//! The simulator's configuration: where it listens, who may bind, and the run-time
//! [`Behaviour`] (changeable through `POST /config`). Read from `configs/smsc-sim.toml`.

use std::{net::SocketAddr, path::Path};

use serde::{Deserialize, Serialize};

use super::{idfmt::IdFormat, latency::Latency};
use crate::Error;

/// Everything the simulator needs to start.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// SMPP listen address (port 0 picks a free port).
    pub smpp_addr: SocketAddr,
    /// HTTP control/stats listen address (port 0 picks a free port).
    pub http_addr: SocketAddr,
    /// `system_id` in bind responses.
    pub smsc_system_id: String,
    /// Accounts allowed to bind; empty accepts any credentials.
    pub accounts: Vec<Account>,
    /// What the simulator does with traffic.
    pub behaviour: Behaviour,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            smpp_addr: SocketAddr::from(([127, 0, 0, 1], 2775)),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8775)),
            smsc_system_id: "SMSCSIM".into(),
            accounts: vec![Account {
                system_id: "semalink".into(),
                password: "secret".into(),
                max_binds: 8,
            }],
            behaviour: Behaviour::default(),
        }
    }
}

impl SimConfig {
    /// Reads a TOML file; missing keys take their defaults.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        let config: Self =
            toml::from_str(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        config.behaviour.validate()?;
        Ok(config)
    }
}

/// One ESME account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// SMPP `system_id` (at most 15 characters).
    pub system_id: String,
    /// SMPP `password` (at most 8 characters).
    pub password: String,
    /// Concurrent binds allowed; the next one gets `ESME_RBINDFAIL`.
    #[serde(default = "default_max_binds")]
    pub max_binds: u32,
}

fn default_max_binds() -> u32 {
    8
}

/// Run-time behaviour. Every knob is here so tests can flip it with `POST /config`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Behaviour {
    /// Format of the id in `submit_sm_resp`.
    pub message_id: IdFormat,
    /// Format of the id in receipts; `None` = same as `message_id`.
    pub receipt_id: Option<IdFormat>,
    /// Delay before each `submit_sm_resp`.
    pub response_latency: Latency,
    /// Delivery receipts.
    pub receipts: Receipts,
    /// Throttling, injected errors, disconnects.
    pub flow: Flow,
    /// How counters group traffic.
    pub stats: StatsKeys,
    /// The Celcom-style HTTP API (`sendsms/`, `sendbulk/`, `getdlr/`, `getbalance/`).
    pub http_api: HttpApi,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            message_id: IdFormat::DECIMAL,
            receipt_id: None,
            response_latency: Latency::Fixed(0),
            receipts: Receipts::default(),
            flow: Flow::default(),
            stats: StatsKeys::default(),
            http_api: HttpApi::default(),
        }
    }
}

/// How the Celcom-style HTTP API answers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HttpApi {
    /// Answer every `sendsms/` recipient with this code instead of deciding (0 = decide):
    /// 1001 invalid sender id, 1003 invalid mobile, 4090 try again later, …
    pub force_code: u32,
    /// Spell the code's key `respose-code`, as some of Celcom's responses do.
    pub respose_quirk: bool,
    /// Credit `getbalance/` reports.
    pub balance: f64,
    /// Push each message's final report (the `getdlr/` answer's JSON) to this `http://` URL
    /// when it is decided, again every 500 ms until answered 200 (at most 20 times); empty =
    /// reports are only pulled.
    pub dlr_callback_url: String,
}

impl Default for HttpApi {
    fn default() -> Self {
        Self {
            force_code: 0,
            respose_quirk: false,
            balance: 1000.0,
            dlr_callback_url: String::new(),
        }
    }
}

impl Behaviour {
    /// Rejects rates outside 0..=1 and an all-zero outcome mix.
    pub fn validate(&self) -> Result<(), Error> {
        let f = &self.flow;
        let r = &self.receipts;
        for (name, v) in [
            ("flow.msgqful_rate", f.msgqful_rate),
            ("flow.syserr_rate", f.syserr_rate),
            ("flow.invdstadr_rate", f.invdstadr_rate),
            ("flow.disconnect_rate", f.disconnect_rate),
            ("receipts.duplicate_rate", r.duplicate_rate),
            ("receipts.before_resp_rate", r.before_resp_rate),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::Config(format!(
                    "{name} must be within 0..=1, got {v}"
                )));
            }
        }
        let m = &r.mix;
        if [m.delivrd, m.undeliv, m.expired, m.rejectd]
            .iter()
            .any(|w| *w < 0.0)
            || m.delivrd + m.undeliv + m.expired + m.rejectd <= 0.0
        {
            return Err(Error::Config(
                "receipts.mix weights must be >= 0 and not all 0".into(),
            ));
        }
        if self.stats.mno_prefix_len > 12 {
            return Err(Error::Config("stats.mno_prefix_len must be <= 12".into()));
        }
        Ok(())
    }
}

/// Delivery-receipt behaviour (SMPP 3.4 §4.6.1 and Appendix B).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Receipts {
    /// Send receipts at all.
    pub enabled: bool,
    /// Only when `registered_delivery` asks for one (SMPP 3.4 §5.2.17); else always.
    pub only_when_requested: bool,
    /// Delay from acceptance to the final receipt.
    pub delay: Latency,
    /// Weights of the final outcomes.
    pub mix: OutcomeMix,
    /// Send an `ENROUTE` receipt first.
    pub enroute_first: bool,
    /// Send an `ACCEPTD` receipt first.
    pub acceptd_first: bool,
    /// Share of final receipts sent twice.
    pub duplicate_rate: f64,
    /// Share of final receipts sent before the `submit_sm_resp`.
    pub before_resp_rate: f64,
    /// How long the `submit_sm_resp` is held after an early receipt that went to another bind.
    pub before_resp_hold_ms: u64,
    /// Add `receipted_message_id` and `message_state` TLVs (else the text only).
    pub tlvs: bool,
    /// Give receipts the submit's address types, swapped (source = the handset's TON/NPI,
    /// destination = the sender's), as real SMSCs do; else TON/NPI 0/0.
    pub echo_address_types: bool,
}

impl Default for Receipts {
    fn default() -> Self {
        Self {
            enabled: true,
            only_when_requested: true,
            delay: Latency::Fixed(50),
            mix: OutcomeMix::default(),
            enroute_first: false,
            acceptd_first: false,
            duplicate_rate: 0.0,
            before_resp_rate: 0.0,
            before_resp_hold_ms: 100,
            tlvs: true,
            echo_address_types: true,
        }
    }
}

/// Relative weights of the final receipt states.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct OutcomeMix {
    /// `DELIVRD`.
    pub delivrd: f64,
    /// `UNDELIV`.
    pub undeliv: f64,
    /// `EXPIRED`.
    pub expired: f64,
    /// `REJECTD`.
    pub rejectd: f64,
}

impl Default for OutcomeMix {
    fn default() -> Self {
        Self {
            delivrd: 1.0,
            undeliv: 0.0,
            expired: 0.0,
            rejectd: 0.0,
        }
    }
}

/// Flow control and fault injection.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Flow {
    /// `submit_sm` per second per bind before `ESME_RTHROTTLED` (0 = unlimited).
    pub tps_per_bind: u32,
    /// `submit_sm` per second over all binds before `ESME_RTHROTTLED` (0 = unlimited).
    pub tps_total: u32,
    /// Share answered `ESME_RMSGQFUL` (transient).
    pub msgqful_rate: f64,
    /// Share answered `ESME_RSYSERR` (transient).
    pub syserr_rate: f64,
    /// Share of *destinations* answered `ESME_RINVDSTADR`: chosen by a hash of the number, so
    /// the same destination fails every time (permanent).
    pub invdstadr_rate: f64,
    /// Per-`submit_sm` chance that the simulator drops the connection after answering.
    pub disconnect_rate: f64,
    /// Drop each bind this many seconds after it bound (0 = never); reconnecting starts a new
    /// period.
    pub disconnect_every_secs: u64,
    /// Send `unbind` (and wait briefly for `unbind_resp`) before a forced disconnect.
    pub unbind_before_disconnect: bool,
    /// Stop answering `submit_sm` and `enquire_link` entirely (to test timeouts).
    pub silent: bool,
}

impl Default for Flow {
    fn default() -> Self {
        Self {
            tps_per_bind: 0,
            tps_total: 0,
            msgqful_rate: 0.0,
            syserr_rate: 0.0,
            invdstadr_rate: 0.0,
            disconnect_rate: 0.0,
            disconnect_every_secs: 0,
            unbind_before_disconnect: false,
            silent: false,
        }
    }
}

/// What counts as a duplicate submission.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateKey {
    /// Same `source_addr`, `destination_addr` and `short_message` octets.
    Content,
    /// Same `source_addr`, `destination_addr` and `user_message_reference` TLV (0x0204);
    /// messages without the TLV are not counted.
    MessageReference,
    /// Don't track duplicates (saves memory on very long runs).
    Off,
}

/// Grouping keys for counters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StatsKeys {
    /// Destination digits that name an MNO group (country code + 3 digits = 6 for Kenya).
    pub mno_prefix_len: usize,
    /// Duplicate detection key.
    pub duplicate_key: DuplicateKey,
}

impl Default for StatsKeys {
    fn default() -> Self {
        Self {
            mno_prefix_len: 6,
            duplicate_key: DuplicateKey::Content,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_config_file_parses_and_matches_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/smsc-sim.toml");
        let file = SimConfig::from_file(&path).unwrap();
        let default = SimConfig::default();
        assert_eq!(
            file.behaviour, default.behaviour,
            "configs/smsc-sim.toml documents the defaults"
        );
        assert_eq!(
            (file.smpp_addr, file.http_addr),
            (default.smpp_addr, default.http_addr)
        );
    }

    #[test]
    fn validation_rejects_bad_rates_and_mixes() {
        let mut b = Behaviour::default();
        b.receipts.before_resp_rate = 1.5;
        assert!(b.validate().is_err());
        let mut b = Behaviour::default();
        b.receipts.mix.delivrd = 0.0;
        assert!(b.validate().is_err());
        assert!(toml::from_str::<SimConfig>("nonsense = 1").is_err());
    }
}
