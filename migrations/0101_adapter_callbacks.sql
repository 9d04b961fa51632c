-- Per-message callbacks of the compatibility adapters (issue 16; docs/webhooks.md "Adapter
-- callbacks"): Kannel's `dlr-url` / `dlr-mask` and an Africa's Talking `callbackUrl` given on a
-- send go through the webhook outbox — signed, retried, logged — like any webhook.
--
-- * message_callbacks: the callback a message was sent with (written in the send's
--   transaction); `style` says which wire format it gets.
-- * webhook_endpoints.kind = 'callbacks': one hidden endpoint per organisation that owns the
--   callbacks' signing secret, in-flight limit and delivery log; the endpoints API does not
--   show it and it is never disabled (a callback URL is per message, not an endpoint).
-- * webhook_deliveries.url / method / content_type: a delivery's own target and wire format
--   (NULL url: the endpoint's; POST of JSON as before).

ALTER TABLE webhook_endpoints
    ADD COLUMN kind text NOT NULL DEFAULT 'endpoint' CHECK (kind IN ('endpoint', 'callbacks'));
CREATE UNIQUE INDEX webhook_endpoints_callbacks_idx ON webhook_endpoints (account_id)
    WHERE kind = 'callbacks';

ALTER TABLE webhook_deliveries
    ADD COLUMN url          text CHECK (length(url) BETWEEN 1 AND 4000),
    ADD COLUMN method       text NOT NULL DEFAULT 'POST' CHECK (method IN ('GET', 'POST')),
    ADD COLUMN content_type text NOT NULL DEFAULT 'application/json'
                            CHECK (length(content_type) <= 100);

CREATE TABLE message_callbacks (
    message_id uuid PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    account_id uuid NOT NULL,
    style      text NOT NULL CHECK (style IN ('kannel', 'africastalking')),
    url        text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    -- Kannel: which reports are wanted (1 delivered, 2 undelivered, 4 buffered, 8 accepted by
    -- the SMSC, 16 rejected by the SMSC); NULL for Africa's Talking (every status).
    dlr_mask   smallint CHECK (dlr_mask BETWEEN 0 AND 31),
    -- Kannel's sendsms user (its %n escape).
    username   text CHECK (length(username) <= 200)
);
