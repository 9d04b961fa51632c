//! The preview and estimate of a campaign: its text rendered for a sample (or a given)
//! contact with encoding and parts — and, when a character forces UCS-2, the protocol
//! crate's transliterated alternative — the audience after exclusions (opted out,
//! suppressed, invalid, duplicates across lists, no rate), and the cost by operator from the
//! organisation's prices. Parts are those of the rendered sample; personalised texts may
//! differ by recipient, and the dispatcher prices each one.

pub mod types;

use rust_decimal::Decimal;
use semalink_protocol::analysis::{self, Encoding};
use semalink_protocol::segment::SegmentOptions;
use semalink_protocol::translit;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::campaigns::dispatch::audience_filter;
use crate::campaigns::dispatch::store::{self as dispatch, Recipient};
use crate::campaigns::preview::types::{Alternative, ForcingChar, OperatorCost, Preview};
use crate::campaigns::template::{Template, encoding_name, value_of};
use crate::campaigns::types::Campaign;
use crate::contacts::store as contacts;
use crate::credits::money::to_amount;
use crate::error::{Error, Result};
use crate::identity::scope::AccountScope;
use crate::pricing::quote::{Pricer, operator_name};

/// The preview of `campaign` (rendered for `contact_id`, else the first recipient; each
/// `{link:…}` as a short URL of the real length on `link_domain`).
pub async fn preview(
    conn: &mut PgConnection,
    scope: AccountScope,
    campaign: &Campaign,
    contact_id: Option<Uuid>,
    now: OffsetDateTime,
    link_domain: &str,
) -> Result<Preview> {
    let country = contacts::account_country(&mut *conn, scope).await?;
    let filter = audience_filter(campaign.audience_filter.as_ref(), &country)?;
    let template = Template::parse(&campaign.message).map_err(|m| {
        Error::Validation(vec![crate::error::FieldError::new(
            "message",
            format!("malformed token at character {}", m.position + 1),
        )])
    })?;
    let contact_id = match contact_id {
        Some(id) => Some(id),
        None => dispatch::sample_contact(&mut *conn, scope, campaign.id, &filter).await?,
    };
    let recipient = match contact_id {
        Some(id) => {
            let c = contacts::get(&mut *conn, scope, id)
                .await?
                .filter(|c| c.deleted_at.is_none())
                .ok_or_else(|| {
                    Error::field("contact_id", "is not a contact of this organisation")
                })?;
            Some(Recipient {
                seq: 0,
                contact_id: Some(c.id),
                destination: c.phone,
                first_name: c.first_name,
                last_name: c.last_name,
                email: c.email,
                attributes: Some(c.attributes),
            })
        }
        None => None,
    };
    let links = vec![crate::links::code::sample_url(link_domain); template.links().len()];
    let text = match &recipient {
        Some(r) => template.render(|n| value_of(r, n), &links),
        None => template.render(|_| None, &links),
    };
    let a = analysis::analyze(&text);
    let transliterated = (a.encoding == Encoding::Ucs2)
        .then(|| {
            let opts = SegmentOptions {
                transliterate: true,
                ..SegmentOptions::default()
            };
            let t = analysis::analyze_with(&text, &opts);
            (t.encoding == Encoding::Gsm7).then(|| Alternative {
                text: translit::transliterate(&text).text,
                encoding: encoding_name(t.encoding).to_owned(),
                parts: u32::try_from(t.segments).unwrap_or(u32::MAX),
            })
        })
        .flatten();
    let parts = u32::try_from(a.segments).map_err(Error::internal)?;
    let (counted, groups) =
        dispatch::count_audience(&mut *conn, scope, campaign.id, &filter).await?;
    let chain = crate::pricing::store::chain(&mut *conn, scope)
        .await?
        .ok_or(Error::NotFound)?;
    let mut countries: Vec<String> = groups.iter().map(|g| g.0.clone()).collect();
    countries.sort_unstable();
    countries.dedup();
    let pricer = Pricer::load(&mut *conn, &chain, Some(&countries), now).await?;
    let mut excluded = counted.excluded;
    let (mut by_operator, mut total, mut recipients) = (Vec::new(), Decimal::ZERO, 0);
    for (country, mno_id, n) in groups {
        let Some(rate) = pricer.rate_for(&country, mno_id.as_deref()) else {
            excluded.no_rate += n;
            continue;
        };
        let cost = to_amount(rate.rate * Decimal::from(parts) * Decimal::from(n));
        total += cost;
        recipients += n;
        by_operator.push(OperatorCost {
            operator: mno_id.as_deref().and_then(operator_name),
            country,
            mno_id,
            recipients: n,
            parts: n * i64::from(parts),
            cost,
        });
    }
    Ok(Preview {
        contact_id,
        encoding: encoding_name(a.encoding).to_owned(),
        characters: a.characters,
        parts,
        forcing_ucs2: a
            .non_gsm
            .iter()
            .map(|c| ForcingChar {
                ch: c.ch.to_string(),
                positions: c.positions.clone(),
                replacement: c.replacement.map(str::to_owned),
            })
            .collect(),
        transliterated,
        text,
        audience: counted.audience,
        recipients,
        excluded,
        by_operator,
        total_cost: total,
    })
}
