-- Directory pages filtered by city alone are ordered by id: serve them from an index.
CREATE INDEX enterprises_city_id ON enterprises (city, id);
