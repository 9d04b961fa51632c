-- Staff notes and reasons follow one rule (control-plane admin::action::MAX_NOTE): at most
-- 1000 characters. Rate and upstream-cost notes allowed 500; sender ID notes and credit
-- reasons already allowed 1000.
ALTER TABLE pricing_rates DROP CONSTRAINT pricing_rates_note_check,
    ADD CONSTRAINT pricing_rates_note_check CHECK (length(note) <= 1000);
ALTER TABLE upstream_costs DROP CONSTRAINT upstream_costs_note_check,
    ADD CONSTRAINT upstream_costs_note_check CHECK (length(note) <= 1000);
