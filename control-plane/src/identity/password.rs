//! Password hashing (argon2id, on the blocking pool so it never stalls the runtime) and the
//! strength rule for new passwords.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;

use crate::config::AuthConfig;
use crate::error::{Error, FieldError};

/// Hashes and verifies passwords with the configured argon2id cost.
#[derive(Debug, Clone)]
pub struct Passwords {
    params: Arc<Params>,
    /// A hash of a random password, verified against when the user does not exist so that
    /// response time does not reveal which emails are registered.
    dummy_hash: Arc<str>,
}

impl Passwords {
    /// Builds the hasher; fails on out-of-range argon2 parameters.
    pub fn new(config: &AuthConfig) -> Result<Passwords, Error> {
        let params = Params::new(
            config.argon2_memory_kib,
            config.argon2_iterations,
            config.argon2_parallelism,
            None,
        )
        .map_err(Error::internal)?;
        let dummy = hash_with(&params, &crate::crypto::random_token())?;
        Ok(Passwords {
            params: Arc::new(params),
            dummy_hash: dummy.into(),
        })
    }

    /// Hashes a password (PHC string).
    pub async fn hash(&self, password: String) -> Result<String, Error> {
        let params = self.params.clone();
        tokio::task::spawn_blocking(move || hash_with(&params, &password))
            .await
            .map_err(Error::internal)?
    }

    /// True when `password` matches `hash`; `None` verifies against a dummy (always false).
    pub async fn verify(&self, password: String, hash: Option<String>) -> bool {
        let (hash, real) = match hash {
            Some(h) => (h, true),
            None => (self.dummy_hash.to_string(), false),
        };
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash).map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
        })
        .await;
        real && matches!(ok, Ok(Ok(true)))
    }
}

fn hash_with(params: &Params, password: &str) -> Result<String, Error> {
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = SaltString::generate(&mut OsRng);
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(Error::internal)
}

/// Passwords too common to accept whatever their shape.
const COMMON: &[&str] = &[
    "password",
    "password1",
    "password123",
    "passw0rd",
    "qwerty123",
    "qwertyuiop",
    "1234567890",
    "12345678910",
    "iloveyou",
    "letmein123",
    "welcome123",
    "admin12345",
    "semalink",
    "changeme",
];

/// The strength rule: 10–128 characters; at least three of lower, upper, digit, symbol unless
/// it is a passphrase of 16 or more; not a common password; not containing the email's name.
pub fn check_strength(field: &str, password: &str, email: &str) -> Result<(), FieldError> {
    let len = password.chars().count();
    let fail = |m: &str| Err(FieldError::new(field, m));
    if len < 10 {
        return fail("must be at least 10 characters");
    }
    if len > 128 {
        return fail("must be at most 128 characters");
    }
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if len < 16 && classes < 3 {
        return fail("needs three of: lower-case, upper-case, digit, symbol (or 16+ characters)");
    }
    let lower = password.to_lowercase();
    if COMMON.iter().any(|c| lower.contains(c)) {
        return fail("is too common");
    }
    let name = email.split('@').next().unwrap_or("").to_lowercase();
    if name.len() >= 4 && lower.contains(&name) {
        return fail("must not contain your email address");
    }
    let first = password.chars().next();
    if password.chars().all(|c| Some(c) == first) {
        return fail("must not repeat one character");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_rule() {
        let ok = |p: &str| check_strength("password", p, "jane.doe@example.com").is_ok();
        assert!(ok("Tr0ub4dor&3x"));
        assert!(ok("correct horse battery staple"));
        assert!(!ok("short1A!"));
        assert!(!ok("alllowercaseletters"[..12].as_ref()));
        assert!(!ok("MyPassword123!"));
        assert!(!ok("Jane.Doe-2024!"));
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let cfg = AuthConfig {
            jwt_secret: String::new().into(),
            access_token_ttl_secs: 1,
            refresh_token_ttl_secs: 1,
            session_max_lifetime_secs: 1,
            lockout_threshold: 1,
            lockout_secs: 1,
            account_lockout_threshold: 1,
            argon2_memory_kib: 64,
            argon2_iterations: 1,
            argon2_parallelism: 1,
        };
        let p = Passwords::new(&cfg).unwrap();
        let h = p.hash("Tr0ub4dor&3x".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(p.verify("Tr0ub4dor&3x".into(), Some(h.clone())).await);
        assert!(!p.verify("wrong".into(), Some(h)).await);
        assert!(!p.verify("anything".into(), None).await);
    }
}
