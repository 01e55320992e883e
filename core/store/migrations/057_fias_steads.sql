-- Land plots (GAR AS_STEADS), loaded when an import is asked for them
-- (crmhub fias import --with steads): «ул Ленина, уч 15» is then the
-- register's, with its own ФИАС id. parent_id is the address object (a
-- street, a settlement…) the plot is under; its parameters (postal code,
-- cadastral number) are in fias_house_params.
CREATE TABLE fias_steads (
    region     smallint NOT NULL,
    object_id  bigint NOT NULL,
    guid       uuid NOT NULL,
    parent_id  bigint,
    number     text NOT NULL,
    record_id  bigint,
    updated    date
) PARTITION BY LIST (region);
CREATE UNIQUE INDEX fias_steads_id ON fias_steads (region, object_id);
CREATE INDEX fias_steads_guid ON fias_steads (guid);
CREATE INDEX fias_steads_parent ON fias_steads (parent_id, lower(number) text_pattern_ops);

ALTER TABLE fias_regions ADD COLUMN steads integer NOT NULL DEFAULT 0;
