-- Flats, offices and other premises of the houses (GAR AS_APARTMENTS),
-- loaded when an import is asked for them (crmhub fias import --with
-- apartments): a flat typed after a house is then the register's, with its
-- own ФИАС id, and a record may name one. parent_id is the house's object
-- id; apart_type refers to fias_house_types of kind apartment. Their
-- parameters (postal code, cadastral number) are in fias_house_params.
CREATE TABLE fias_apartments (
    region     smallint NOT NULL,
    object_id  bigint NOT NULL,
    guid       uuid NOT NULL,
    parent_id  bigint,
    number     text NOT NULL,
    apart_type smallint NOT NULL,
    record_id  bigint,
    updated    date
) PARTITION BY LIST (region);
CREATE UNIQUE INDEX fias_apartments_id ON fias_apartments (region, object_id);
CREATE INDEX fias_apartments_guid ON fias_apartments (guid);
CREATE INDEX fias_apartments_parent ON fias_apartments (parent_id, lower(number));

ALTER TABLE fias_regions ADD COLUMN apartments integer NOT NULL DEFAULT 0;
