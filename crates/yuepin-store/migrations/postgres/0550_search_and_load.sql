-- Registry searches and bulk loads on PostgreSQL (issue #19; docs/benchmarks/pg-search.md).
--
-- Code columns compare byte by byte. Credit codes, region and city codes, designation kinds and
-- ISO dates are ASCII whose order is their byte order, which is also how SQLite compares them;
-- under the database's default collation (often a glibc locale such as C.UTF-8 or en_US.UTF-8)
-- every comparison in their indexes went through strcoll: index builds, unique checks on
-- insert and range scans were several times slower than with "C". Names keep the default.
-- (The trigger that carries a move to the designations names the city column: it is dropped
-- and created again as 0530 made it.)
DROP TRIGGER designations_city_follows ON enterprises;
ALTER TABLE enterprises ALTER COLUMN uscc TYPE TEXT COLLATE "C",
    ALTER COLUMN region TYPE TEXT COLLATE "C",
    ALTER COLUMN city TYPE TEXT COLLATE "C";
CREATE TRIGGER designations_city_follows AFTER UPDATE OF city ON enterprises
FOR EACH ROW WHEN (OLD.city IS DISTINCT FROM NEW.city)
EXECUTE FUNCTION designations_city_follows();
ALTER TABLE designations ALTER COLUMN kind TYPE TEXT COLLATE "C",
    ALTER COLUMN awarded_on TYPE TEXT COLLATE "C",
    ALTER COLUMN expires_on TYPE TEXT COLLATE "C",
    ALTER COLUMN city TYPE TEXT COLLATE "C";
-- Searches read a few hundred index entries; the planner still started two parallel workers
-- for the capped counts of designation filters (Gather), whose start-up cost 15-30 ms on a
-- busy two-core server against 6-9 ms for the same count in one process. Bulk reads of these
-- tables stream rows to one client and gain nothing from workers either.
ALTER TABLE enterprises SET (parallel_workers = 0);
ALTER TABLE designations SET (parallel_workers = 0);
