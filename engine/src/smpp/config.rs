//! [`SessionConfig`]: where one bind connects, who it binds as, and its timers. Embedded in
//! the engine's config file, so it deserializes with serde (durations in milliseconds).

use std::{fmt, time::Duration};

use serde::{Deserialize, Deserializer};

use super::error::ConfigError;

/// How a session binds (SMPP 3.4 §2.2, §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindType {
    /// `bind_transceiver`: submits and receives on one connection.
    #[default]
    Transceiver,
    /// `bind_transmitter`: submits only.
    Transmitter,
    /// `bind_receiver`: receives receipts and MO messages only.
    Receiver,
}

impl BindType {
    /// Whether `submit_sm` may be sent on such a bind.
    pub fn can_submit(self) -> bool {
        self != BindType::Receiver
    }

    /// Whether `deliver_sm` is expected on such a bind.
    pub fn can_receive(self) -> bool {
        self != BindType::Transmitter
    }

    /// The bind request's `command_id` (SMPP 3.4 §5.1.2.1).
    pub(crate) fn command_id(self) -> u32 {
        match self {
            BindType::Receiver => 0x0000_0001,
            BindType::Transmitter => 0x0000_0002,
            BindType::Transceiver => 0x0000_0009,
        }
    }
}

/// One SMPP bind. `password` is never printed by `Debug`.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// SMSC host name or address.
    pub host: String,
    /// SMSC port.
    pub port: u16,
    /// `system_id` (at most 15 characters, SMPP 3.4 §4.1.1).
    pub system_id: String,
    /// `password` (at most 8 characters).
    pub password: String,
    /// `system_type` (at most 12 characters, often empty).
    pub system_type: String,
    /// Bind kind.
    pub bind_type: BindType,
    /// `addr_ton` of the bind request.
    pub addr_ton: u8,
    /// `addr_npi` of the bind request.
    pub addr_npi: u8,
    /// `address_range` of the bind request (receivers: which MO addresses to route here).
    pub address_range: String,
    /// Outstanding requests allowed (submitted, not yet answered).
    pub window: usize,
    /// Idle time after which an `enquire_link` is sent.
    #[serde(rename = "enquire_link_ms", deserialize_with = "millis")]
    pub enquire_link_interval: Duration,
    /// How long a request waits for its response.
    #[serde(rename = "response_timeout_ms", deserialize_with = "millis")]
    pub response_timeout: Duration,
    /// First reconnect delay (before jitter); doubles on each failure.
    #[serde(rename = "reconnect_min_ms", deserialize_with = "millis")]
    pub reconnect_min: Duration,
    /// Largest reconnect delay.
    #[serde(rename = "reconnect_max_ms", deserialize_with = "millis")]
    pub reconnect_max: Duration,
    /// Connect plus `bind_*_resp` must complete within this.
    #[serde(rename = "bind_timeout_ms", deserialize_with = "millis")]
    pub bind_timeout: Duration,
}

fn millis<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    u64::deserialize(d).map(Duration::from_millis)
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 2775,
            system_id: String::new(),
            password: String::new(),
            system_type: String::new(),
            bind_type: BindType::Transceiver,
            addr_ton: 0,
            addr_npi: 0,
            address_range: String::new(),
            window: 10,
            enquire_link_interval: Duration::from_secs(30),
            response_timeout: Duration::from_secs(10),
            reconnect_min: Duration::from_millis(500),
            reconnect_max: Duration::from_secs(30),
            bind_timeout: Duration::from_secs(10),
        }
    }
}

impl fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("system_id", &self.system_id)
            .field("password", &"<redacted>")
            .field("system_type", &self.system_type)
            .field("bind_type", &self.bind_type)
            .field("window", &self.window)
            .field("enquire_link_interval", &self.enquire_link_interval)
            .field("response_timeout", &self.response_timeout)
            .field("reconnect_min", &self.reconnect_min)
            .field("reconnect_max", &self.reconnect_max)
            .field("bind_timeout", &self.bind_timeout)
            .finish_non_exhaustive()
    }
}

impl SessionConfig {
    /// Checks the field limits of SMPP 3.4 §4.1.1 and that the timers make sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let too_long = |field: &'static str, value: &str, max: usize| {
            (value.len() > max || value.contains('\0')).then_some(ConfigError::Field { field, max })
        };
        if let Some(e) = too_long("system_id", &self.system_id, 15)
            .or_else(|| too_long("password", &self.password, 8))
            .or_else(|| too_long("system_type", &self.system_type, 12))
            .or_else(|| too_long("address_range", &self.address_range, 40))
        {
            return Err(e);
        }
        if self.host.is_empty() {
            return Err(ConfigError::Invalid("host must not be empty"));
        }
        if self.window == 0 {
            return Err(ConfigError::Invalid("window must be at least 1"));
        }
        let zero = Duration::ZERO;
        if self.enquire_link_interval == zero
            || self.response_timeout == zero
            || self.bind_timeout == zero
        {
            return Err(ConfigError::Invalid("timers must be above zero"));
        }
        if self.reconnect_min == zero || self.reconnect_min > self.reconnect_max {
            return Err(ConfigError::Invalid(
                "reconnect_min_ms must be above zero and at most reconnect_max_ms",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deserializes_with_millisecond_timers_and_hides_the_password() {
        let config: SessionConfig = toml::from_str(
            r#"
            host = "smsc.example"
            port = 2776
            system_id = "semalink"
            password = "hunter2"
            bind_type = "transmitter"
            window = 50
            enquire_link_ms = 15000
            response_timeout_ms = 2500
            "#,
        )
        .unwrap();
        assert_eq!(config.bind_type, BindType::Transmitter);
        assert_eq!(config.response_timeout, Duration::from_millis(2500));
        assert_eq!(config.enquire_link_interval, Duration::from_secs(15));
        assert_eq!(
            config.reconnect_max,
            Duration::from_secs(30),
            "default kept"
        );
        config.validate().unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("semalink"));
    }

    #[test]
    fn validation_rejects_long_fields_and_zero_window() {
        let mut config = SessionConfig {
            system_id: "a-system-id-too-long".into(),
            ..SessionConfig::default()
        };
        assert!(matches!(
            config.validate(),
            Err(ConfigError::Field {
                field: "system_id",
                ..
            })
        ));
        config.system_id = "ok".into();
        config.window = 0;
        assert!(config.validate().is_err());
        config.window = 1;
        config.reconnect_min = Duration::from_secs(60);
        assert!(config.validate().is_err());
        assert!(toml::from_str::<SessionConfig>("nonsense = 1").is_err());
    }
}
