-- A retired ФИАС id keeps resolving: to the object or house that took its
-- place, as the register's version chain tells (a retired version whose
-- NEXTID names a record of another object, or a record whose PREVID names
-- one of a retired object). record_id is the GAR record (ID) of the
-- version served, which a later delta's chain may name.
ALTER TABLE fias_addr_objects ADD COLUMN record_id bigint;
ALTER TABLE fias_houses ADD COLUMN record_id bigint;

CREATE TABLE fias_successors (
    guid      uuid PRIMARY KEY,
    successor uuid NOT NULL,
    region    smallint NOT NULL,
    kind      text NOT NULL CHECK (kind IN ('object', 'house')),
    retired   date
);
CREATE INDEX fias_successors_region ON fias_successors (region);
