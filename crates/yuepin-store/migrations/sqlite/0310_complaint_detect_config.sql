-- The detector configuration a detection run used (issue #18 item 3), as the JSON of
-- `yuepin_complaints::DetectorConfig`; NULL for runs before it was recorded.
ALTER TABLE complaint_detect_runs ADD COLUMN config TEXT;
