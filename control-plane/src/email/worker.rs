//! The outbox worker: drains due emails in small batches and hands them to the mailer.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use sqlx::PgPool;
use tokio::sync::watch;

use crate::config::{EmailConfig, Environment};
use crate::email::outbox::{self, Queued};
use crate::error::{Error, Result};

/// Where emails go.
#[derive(Clone)]
pub enum Mailer {
    /// A real SMTP server (rustls).
    Smtp {
        /// The transport.
        transport: Box<AsyncSmtpTransport<Tokio1Executor>>,
        /// The From mailbox.
        from: Mailbox,
    },
    /// Development: each email is written to the log, links included.
    Log,
    /// No SMTP outside development: the log gets each email with its links redacted (a link
    /// in a log is a password reset for whoever reads the logs).
    LogWithoutLinks,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mailer::Smtp { .. } => "Mailer::Smtp",
            Mailer::Log => "Mailer::Log",
            Mailer::LogWithoutLinks => "Mailer::LogWithoutLinks",
        })
    }
}

impl Mailer {
    /// SMTP when `smtp_url` is set, otherwise the log (with links only in development).
    pub fn from_config(config: &EmailConfig, environment: Environment) -> Result<Mailer> {
        let Some(url) = &config.smtp_url else {
            return Ok(match environment {
                Environment::Development => Mailer::Log,
                Environment::Production => Mailer::LogWithoutLinks,
            });
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
            .map_err(|_| Error::internal("email.smtp_url is not a valid SMTP URL"))?
            .build();
        let transport = Box::new(transport);
        let from = config
            .from
            .parse()
            .map_err(|_| Error::internal("email.from is not a valid mailbox"))?;
        Ok(Mailer::Smtp { transport, from })
    }

    /// What the log may show of a body.
    fn loggable_body(&self, body: &str) -> String {
        match self {
            Mailer::Log => body.to_owned(),
            _ => outbox::redact_links(body),
        }
    }

    async fn send(&self, email: &Queued) -> std::result::Result<(), String> {
        match self {
            Mailer::Log | Mailer::LogWithoutLinks => {
                let body = self.loggable_body(&email.body_text);
                tracing::info!(to = %email.to_address, subject = %email.subject, %body, "email (no SMTP configured)");
                Ok(())
            }
            Mailer::Smtp { transport, from } => {
                let to: Mailbox = email
                    .to_address
                    .parse()
                    .map_err(|e| format!("bad recipient: {e}"))?;
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(&email.subject)
                    .body(email.body_text.clone())
                    .map_err(|e| e.to_string())?;
                transport
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
    }
}

/// Sends one batch of due emails; returns how many were attempted.
pub async fn drain_once(pool: &PgPool, mailer: &Mailer) -> Result<usize> {
    let mut tx = pool.begin().await?;
    let batch = outbox::claim_due(&mut tx, 20).await?;
    for email in &batch {
        match mailer.send(email).await {
            Ok(()) => outbox::mark_sent(&mut *tx, email.id, &email.body_text).await?,
            Err(error) => {
                tracing::warn!(email_id = %email.id, %error, "email send failed; will retry");
                outbox::mark_failed(&mut *tx, email.id, email.attempts, &error).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(batch.len())
}

/// Runs until `shutdown` flips to true, polling every `interval` when idle.
pub async fn run(
    pool: PgPool,
    mailer: Mailer,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let sent = match drain_once(&pool, &mailer).await {
            Ok(n) => n,
            Err(error) => {
                tracing::error!(%error, "email outbox drain failed");
                0
            }
        };
        if sent == 0 {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.changed() => {}
            }
        }
        if *shutdown.borrow() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: Option<&str>) -> EmailConfig {
        EmailConfig {
            from: "Sema Link <no-reply@semalink.africa>".into(),
            smtp_url: url.map(|u| secrecy::SecretString::from(u.to_owned())),
            poll_interval_ms: 1000,
        }
    }

    #[test]
    fn smtp_only_when_configured_and_never_printed() {
        let dev = Environment::Development;
        assert!(matches!(
            Mailer::from_config(&config(None), dev).unwrap(),
            Mailer::Log
        ));
        let smtp = Mailer::from_config(
            &config(Some("smtps://user:hunter2@smtp.example.com:465")),
            dev,
        )
        .unwrap();
        assert!(matches!(smtp, Mailer::Smtp { .. }));
        assert!(!format!("{smtp:?}").contains("hunter2"));
        assert!(Mailer::from_config(&config(Some("not a url")), dev).is_err());
    }

    #[test]
    fn links_reach_the_log_only_in_development() {
        let body = "Use this link to sign in:\n\nhttps://app/magic-link?token=0123abcd\n";
        let prod = Mailer::from_config(&config(None), Environment::Production).unwrap();
        assert!(matches!(prod, Mailer::LogWithoutLinks));
        assert!(!prod.loggable_body(body).contains("0123abcd"));
        let dev = Mailer::from_config(&config(None), Environment::Development).unwrap();
        assert!(dev.loggable_body(body).contains("0123abcd"));
    }
}
