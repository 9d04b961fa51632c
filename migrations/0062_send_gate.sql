-- The send gate (control-plane/src/accounts/gate.rs) looks up suspended organisations and the
-- sub-customers of suspended agents on every publisher pass and dispatcher claim: keep both
-- lookups on small indexes instead of scanning accounts.
CREATE INDEX accounts_suspended_idx ON accounts (id) WHERE status = 'suspended';
CREATE INDEX accounts_parent_agent_idx ON accounts (parent_agent_id) WHERE parent_agent_id IS NOT NULL;
