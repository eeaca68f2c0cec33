-- Public report verification needs the number and an unguessable token (issue 17 item 6): one
-- token per report, printed in the report's link. Reports issued before get 128 bits (of two
-- random UUIDs, hashed) as 32 hex characters (a subset of base64url); new ones get 16 random
-- bytes in base64url.
CREATE TABLE lab_report_tokens (
    number TEXT PRIMARY KEY REFERENCES lab_reports (number),
    token TEXT NOT NULL
);
INSERT INTO lab_report_tokens (number, token)
    SELECT number, substr(encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex'), 1, 32)
    FROM lab_reports;
