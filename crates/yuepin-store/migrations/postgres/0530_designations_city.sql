-- Each designation row carries its enterprise's city (see the SQLite migration); the trigger
-- keeps it in step when an enterprise moves.
ALTER TABLE designations ADD COLUMN city TEXT NOT NULL DEFAULT '';
UPDATE designations d SET city = e.city FROM enterprises e WHERE e.id = d.enterprise_id;
CREATE INDEX designations_city ON designations (kind, city, enterprise_id, awarded_on, expires_on);
CREATE FUNCTION designations_city_follows() RETURNS trigger AS $$
BEGIN
    UPDATE designations SET city = NEW.city WHERE enterprise_id = NEW.id;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER designations_city_follows AFTER UPDATE OF city ON enterprises
FOR EACH ROW WHEN (OLD.city IS DISTINCT FROM NEW.city)
EXECUTE FUNCTION designations_city_follows();
