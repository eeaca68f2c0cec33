-- A qualification is held at the lab that granted it (issue 17 item 10): `lab_id` is the
-- granting lab, so a lab's training opens that lab's instruments only. 0 is a grant by the
-- regulator, recognised at every lab; grants made before this migration (their granter was
-- not recorded) are kept as such.
ALTER TABLE lab_qualifications ADD COLUMN lab_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE lab_qualifications DROP CONSTRAINT lab_qualifications_pkey;
ALTER TABLE lab_qualifications ADD PRIMARY KEY (enterprise_id, lab_id, qualification);
