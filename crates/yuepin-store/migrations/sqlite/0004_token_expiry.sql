-- API tokens expire (issue 17 item 3): tokens issued before this migration get 90 days from now.
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
UPDATE api_tokens SET expires_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+90 days');
CREATE INDEX api_tokens_user ON api_tokens (user_id);
