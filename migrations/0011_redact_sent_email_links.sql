-- Emails already sent keep no single-use link in clear (the worker redacts bodies as it sends
-- from now on; this does the same for the rows sent before).
UPDATE email_outbox
   SET body_text = regexp_replace(body_text, 'token=[^\s&#]+', 'token=[redacted]', 'g')
 WHERE sent_at IS NOT NULL;
