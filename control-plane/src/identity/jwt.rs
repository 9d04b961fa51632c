//! HS256 access tokens. One `TokenKeys` per audience: customer and staff tokens use different
//! secrets and audiences, so neither can be replayed against the other's routes.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Error;
use crate::identity::role::Role;

/// Issuer of every token.
pub const ISSUER: &str = "semalink";
/// Audience of customer access tokens.
pub const CUSTOMER_AUDIENCE: &str = "semalink-api";
/// Audience of the short-lived token between password and TOTP code.
pub const MFA_AUDIENCE: &str = "semalink-mfa";
/// Audience of staff access tokens.
pub const STAFF_AUDIENCE: &str = "semalink-admin";

/// Signing and verification keys for one audience.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

impl TokenKeys {
    /// Keys from a secret.
    pub fn new(secret: &SecretString) -> TokenKeys {
        let bytes = secret.expose_secret().as_bytes();
        TokenKeys {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
        }
    }

    /// Signs claims.
    pub fn sign<C: Serialize>(&self, claims: &C) -> Result<String, Error> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(Error::internal)
    }

    /// Verifies signature, expiry, issuer and audience.
    pub fn verify<C: DeserializeOwned>(&self, token: &str, audience: &str) -> Result<C, Error> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[audience]);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 5;
        jsonwebtoken::decode::<C>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|_| Error::Unauthorized("invalid or expired access token"))
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Claims of a customer access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// User id.
    pub sub: Uuid,
    /// Account (organisation) the token acts for.
    pub acc: Uuid,
    /// Role in that account.
    pub role: Role,
    /// Session id (refresh-token family).
    pub sid: Uuid,
    /// Issued at.
    pub iat: i64,
    /// Expires at.
    pub exp: i64,
    /// Audience.
    pub aud: String,
    /// Issuer.
    pub iss: String,
}

/// Claims of the token that carries a password-verified login to the TOTP step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MfaClaims {
    /// User id.
    pub sub: Uuid,
    /// Account requested at login, if any.
    pub acc: Option<Uuid>,
    /// Expires at.
    pub exp: i64,
    /// Audience.
    pub aud: String,
    /// Issuer.
    pub iss: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(aud: &str) -> AccessClaims {
        AccessClaims {
            sub: Uuid::now_v7(),
            acc: Uuid::now_v7(),
            role: Role::Owner,
            sid: Uuid::now_v7(),
            iat: now_secs(),
            exp: now_secs() + 60,
            aud: aud.into(),
            iss: ISSUER.into(),
        }
    }

    #[test]
    fn wrong_secret_or_audience_is_rejected() {
        let a = TokenKeys::new(&SecretString::from("a".repeat(32)));
        let b = TokenKeys::new(&SecretString::from("b".repeat(32)));
        let token = a.sign(&claims(CUSTOMER_AUDIENCE)).unwrap();
        assert!(a.verify::<AccessClaims>(&token, CUSTOMER_AUDIENCE).is_ok());
        assert!(b.verify::<AccessClaims>(&token, CUSTOMER_AUDIENCE).is_err());
        assert!(a.verify::<AccessClaims>(&token, STAFF_AUDIENCE).is_err());
    }

    #[test]
    fn expired_token_is_rejected() {
        let keys = TokenKeys::new(&SecretString::from("a".repeat(32)));
        let mut c = claims(CUSTOMER_AUDIENCE);
        c.exp = now_secs() - 120;
        let token = keys.sign(&c).unwrap();
        assert!(
            keys.verify::<AccessClaims>(&token, CUSTOMER_AUDIENCE)
                .is_err()
        );
    }
}
