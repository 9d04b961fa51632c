-- The human content-check queue (staff campaigns oversight, issue 17): a campaign that passes
-- the automatic check but matches a review rule (`[campaigns] review_words`, or
-- `review_first_campaign` for an organisation's first campaign) stays
-- `pending_content_check` with `review_reason` set until staff approve or reject it
-- (control-plane/src/campaigns/review, through lifecycle::review).

ALTER TABLE campaigns
    ADD COLUMN review_reason       text CHECK (length(review_reason) BETWEEN 1 AND 2000),
    ADD COLUMN review_requested_at timestamptz,
    ADD COLUMN reviewed_by         uuid REFERENCES admin_staff (id) ON DELETE SET NULL,
    ADD COLUMN reviewed_at         timestamptz;

-- The queue: campaigns waiting for a human.
CREATE INDEX campaigns_review_queue_idx ON campaigns (id) WHERE review_reason IS NOT NULL;
