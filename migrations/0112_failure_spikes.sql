-- Failed-SMS spike notice (staff engineering module, issue 17): the `failure_spike` worker
-- (control-plane/src/engineering/spike.rs) compares the results rollups (message_rollups)
-- with a baseline taken at the start of each window, and tells engineering viewers once per
-- window when the failure rate of the messages that became final in it crosses
-- `[engineering] failure_spike_rate`. One row per window; `notified_at` makes "at most once"
-- hold across processes.

CREATE TABLE failure_spike_windows (
    window_start  timestamptz PRIMARY KEY,
    -- The rollups' final and failed (failed + expired + rejected) totals at the first look.
    base_finals   bigint NOT NULL,
    base_failures bigint NOT NULL,
    -- What the window held when the notice went out.
    finals        bigint,
    failures      bigint,
    notified_at   timestamptz
);

-- The spike check sums the rollups of the last two days.
CREATE INDEX message_rollups_day_idx ON message_rollups (day);
