//! Email templates: verification, password reset, magic link and team invitation. Plain text,
//! rendered with the web app's base URL so links land on its pages.

/// An email to render.
#[derive(Debug, Clone)]
pub enum Template<'a> {
    /// Confirm the address after signup (valid 24 h).
    Verification {
        /// Recipient's first name.
        first_name: &'a str,
        /// Raw token.
        token: &'a str,
    },
    /// Set a new password (valid 1 h).
    PasswordReset {
        /// Raw token.
        token: &'a str,
    },
    /// Sign in without a password (valid 15 min).
    MagicLink {
        /// Raw token.
        token: &'a str,
    },
    /// Join an organisation.
    Invitation {
        /// The organisation's name.
        account_name: &'a str,
        /// Raw token.
        token: &'a str,
    },
    /// To the staff who decide sender IDs: one was submitted and waits in the queue.
    SenderIdSubmitted {
        /// The organisation's name.
        account_name: &'a str,
        /// The requested sender ID.
        name: &'a str,
        /// Its country (ISO 3166-1 alpha-2).
        country: &'a str,
    },
    /// Join Sema Link's staff: set a password to activate the account (valid 72 h).
    StaffInvitation {
        /// The invitee's name.
        name: &'a str,
        /// Raw token.
        token: &'a str,
    },
    /// A copy of an in-app notification (`notifications::notify`).
    Notification {
        /// One line, used as the subject.
        title: &'a str,
        /// Plain text.
        body: &'a str,
    },
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Template name, stored with the outbox row.
    pub template: &'static str,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

impl Template<'_> {
    /// Renders subject and body; `base` is the web app URL without a trailing slash.
    pub fn render(&self, base: &str) -> Rendered {
        let base = base.trim_end_matches('/');
        match self {
            Template::Verification { first_name, token } => Rendered {
                template: "verification",
                subject: "Confirm your Sema Link email address".into(),
                body: format!(
                    "Hello {first_name},\n\nConfirm your email address to start sending:\n\n{base}/verify-email?token={token}\n\nThe link is valid for 24 hours.\n\nSema Link"
                ),
            },
            Template::PasswordReset { token } => Rendered {
                template: "password_reset",
                subject: "Reset your Sema Link password".into(),
                body: format!(
                    "Someone asked to reset the password of this Sema Link account.\n\n{base}/reset-password?token={token}\n\nThe link is valid for 1 hour. If it was not you, ignore this email.\n\nSema Link"
                ),
            },
            Template::MagicLink { token } => Rendered {
                template: "magic_link",
                subject: "Your Sema Link sign-in link".into(),
                body: format!(
                    "Use this link to sign in:\n\n{base}/magic-link?token={token}\n\nIt is valid for 15 minutes and works once.\n\nSema Link"
                ),
            },
            Template::Invitation {
                account_name,
                token,
            } => Rendered {
                template: "invitation",
                subject: format!("You are invited to join {account_name} on Sema Link"),
                body: format!(
                    "You have been invited to join {account_name} on Sema Link.\n\n{base}/accept-invitation?token={token}\n\nThe invitation is valid for 7 days.\n\nSema Link"
                ),
            },
            Template::SenderIdSubmitted {
                account_name,
                name,
                country,
            } => Rendered {
                template: "sender_id_submitted",
                subject: format!("Sender ID {name} ({country}) awaits review"),
                body: format!(
                    "{account_name} submitted the sender ID {name} for {country}.\n\nThe approval queue, oldest first: {base}/admin/sender-ids\n\nSema Link"
                ),
            },
            Template::StaffInvitation { name, token } => Rendered {
                template: "staff_invitation",
                subject: "You are invited to the Sema Link admin app".to_owned(),
                body: format!(
                    "Hello {name},\n\nSet your password to activate your staff account (the link is valid for 72 hours):\n{base}/admin/accept-invite?token={token}\n\nSema Link"
                ),
            },
            Template::Notification { title, body } => Rendered {
                template: "notification",
                subject: format!("Sema Link: {title}"),
                body: format!("{body}\n\nSee all notifications: {base}/notifications\n\nSema Link"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_carry_the_token() {
        let r = Template::PasswordReset { token: "abc" }.render("https://app.example/");
        assert!(
            r.body
                .contains("https://app.example/reset-password?token=abc")
        );
        assert_eq!(r.template, "password_reset");
    }
}
