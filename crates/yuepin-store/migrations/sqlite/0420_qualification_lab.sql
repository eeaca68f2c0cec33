-- A qualification is held at the lab that granted it (issue 17 item 10): `lab_id` is the
-- granting lab, so a lab's training opens that lab's instruments only. 0 is a grant by the
-- regulator, recognised at every lab; grants made before this migration (their granter was
-- not recorded) are kept as such.
CREATE TABLE lab_qualifications_scoped (
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    lab_id INTEGER NOT NULL DEFAULT 0,
    qualification TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    PRIMARY KEY (enterprise_id, lab_id, qualification)
);
INSERT INTO lab_qualifications_scoped (enterprise_id, lab_id, qualification, valid_until)
    SELECT enterprise_id, 0, qualification, valid_until FROM lab_qualifications;
DROP TABLE lab_qualifications;
ALTER TABLE lab_qualifications_scoped RENAME TO lab_qualifications;
