-- Each designation row carries its enterprise's city, so "designation X in city Y" (the
-- directory's most common combined filter) is one index range, in enterprise order, instead of
-- a probe of the designations for every enterprise of the city. Writers set it with the row;
-- the trigger keeps it in step when an enterprise moves.
ALTER TABLE designations ADD COLUMN city TEXT NOT NULL DEFAULT '';
UPDATE designations SET city = (SELECT e.city FROM enterprises e WHERE e.id = designations.enterprise_id);
CREATE INDEX designations_city ON designations (kind, city, enterprise_id, awarded_on, expires_on);
CREATE TRIGGER designations_city_follows AFTER UPDATE OF city ON enterprises
WHEN OLD.city <> NEW.city
BEGIN
    UPDATE designations SET city = NEW.city WHERE enterprise_id = NEW.id;
END;
