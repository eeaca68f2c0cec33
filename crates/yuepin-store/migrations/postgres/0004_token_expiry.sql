-- API tokens expire (issue 17 item 3): tokens issued before this migration get 90 days from now.
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
UPDATE api_tokens SET expires_at = to_char((now() AT TIME ZONE 'UTC') + INTERVAL '90 days', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
CREATE INDEX api_tokens_user ON api_tokens (user_id);
