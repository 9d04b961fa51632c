-- Short links with click tracking (issue 16, seed 001 WO-E; control-plane/src/links,
-- docs/links.md).
--
-- * short_links: one row per recipient and `{link:…}` of a campaign text, written by the
--   dispatcher in the transaction that writes the recipient's message (the foreign key to
--   the message is checked at commit: the link rows go in first, so that a code collision
--   is retried before the text is rendered). `code` is 7 base62 characters.
-- * link_clicks: every request for a code, written in batches off the redirect's path.
--   `bot` says why a request is not a person's click (NULL: a person): a HEAD request, a
--   known crawler or link-previewer user agent, or a request within a second of delivery (or before it: `early`).
-- * campaign_clicks: per-campaign counters the batch writer keeps (analytics read them):
--   clicks and clickers (recipients with at least one click) by people, and bot requests.

CREATE TABLE short_links (
    code        text PRIMARY KEY CHECK (code ~ '^[0-9A-Za-z]{7}$'),
    account_id  uuid NOT NULL,
    campaign_id uuid NOT NULL,
    message_id  uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE
                DEFERRABLE INITIALLY DEFERRED,
    contact_id  uuid,
    position    smallint NOT NULL CHECK (position >= 0),
    url         text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (account_id, campaign_id) REFERENCES campaigns (account_id, id)
        ON DELETE CASCADE
);
CREATE INDEX short_links_message_idx ON short_links (message_id);
CREATE INDEX short_links_campaign_idx ON short_links (campaign_id);

CREATE TABLE link_clicks (
    id          uuid PRIMARY KEY,
    code        text NOT NULL REFERENCES short_links (code) ON DELETE CASCADE,
    account_id  uuid NOT NULL,
    campaign_id uuid NOT NULL,
    message_id  uuid NOT NULL,
    contact_id  uuid,
    clicked_at  timestamptz NOT NULL,
    method      text NOT NULL CHECK (method IN ('GET', 'HEAD')),
    user_agent  text CHECK (length(user_agent) <= 512),
    bot         text CHECK (bot IN ('head', 'user_agent', 'early'))
);
CREATE INDEX link_clicks_campaign_idx ON link_clicks (campaign_id, id DESC);
CREATE INDEX link_clicks_code_idx ON link_clicks (code);
CREATE INDEX link_clicks_person_idx ON link_clicks (message_id) WHERE bot IS NULL;

CREATE TABLE campaign_clicks (
    campaign_id   uuid PRIMARY KEY,
    account_id    uuid NOT NULL,
    clicks        bigint NOT NULL DEFAULT 0 CHECK (clicks >= 0),
    clickers      bigint NOT NULL DEFAULT 0 CHECK (clickers >= 0),
    bot_clicks    bigint NOT NULL DEFAULT 0 CHECK (bot_clicks >= 0),
    last_click_at timestamptz,
    FOREIGN KEY (account_id, campaign_id) REFERENCES campaigns (account_id, id)
        ON DELETE CASCADE
);
