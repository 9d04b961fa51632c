//! The dispatcher's side of short links: one code per recipient and `{link:…}`, allocated
//! for a whole batch at once ([`store::allocate`]) in the dispatcher's transaction, and the
//! short URLs each recipient's text is rendered with.

use sqlx::PgConnection;
use uuid::Uuid;

use super::code::short_url;
use super::store::{self, NewLinks};
use crate::error::{Error, Result};

/// The short URLs of every message of a batch: `messages[i]` (to `contacts[i]`) gets one per
/// link of `urls` (the template's links in order); answer `[i][j]` is message `i`'s short
/// URL for link `j`.
pub async fn short_urls(
    conn: &mut PgConnection,
    account_id: Uuid,
    campaign_id: Uuid,
    domain: &str,
    urls: &[&str],
    messages: &[Uuid],
    contacts: &[Option<Uuid>],
) -> Result<Vec<Vec<String>>> {
    if urls.is_empty() || messages.is_empty() {
        return Ok(vec![Vec::new(); messages.len()]);
    }
    let mut links = NewLinks::default();
    for (m, k) in messages.iter().zip(contacts) {
        for (j, url) in urls.iter().enumerate() {
            links.messages.push(*m);
            links.contacts.push(*k);
            links
                .positions
                .push(i16::try_from(j).map_err(Error::internal)?);
            links.urls.push((*url).to_owned());
        }
    }
    let codes = store::allocate(conn, account_id, campaign_id, &links).await?;
    Ok(codes
        .chunks(urls.len())
        .map(|c| c.iter().map(|code| short_url(domain, code)).collect())
        .collect())
}
