-- The state address register (ФИАС/ГАР) as suggestions and structured
-- addresses read it: the actual and active versions only, one partition
-- per region. An import loads a region into tables of its own and swaps
-- them in as that region's partitions (detach the old, attach the new, in
-- one short transaction), so lookups keep answering during a reload and
-- never see half a region.

-- Address objects: regions, districts, cities, settlements, streets.
-- path is the administrative chain of object ids from the region down to
-- the object itself; houses counts the houses below it (a city before a
-- village of the same name).
CREATE TABLE fias_addr_objects (
    region        smallint NOT NULL,
    object_id     bigint NOT NULL,
    guid          uuid NOT NULL,
    level         smallint NOT NULL,
    name          text NOT NULL,
    type_name     text NOT NULL,
    parent_id     bigint,
    mun_parent_id bigint,
    path          bigint[] NOT NULL,
    postal_code   text,
    okato         text,
    oktmo         text,
    kladr_code    text,
    tax_office    text,
    houses        integer NOT NULL,
    updated       date
) PARTITION BY LIST (region);
CREATE UNIQUE INDEX fias_addr_objects_id ON fias_addr_objects (region, object_id);
CREATE INDEX fias_addr_objects_guid ON fias_addr_objects (guid);
CREATE INDEX fias_addr_objects_kladr ON fias_addr_objects (kladr_code) WHERE kladr_code IS NOT NULL;
CREATE INDEX fias_addr_objects_parent ON fias_addr_objects (parent_id);

-- Houses (buildings) under their administrative parent (a street, a
-- settlement…); add_num1/add_type1 and add_num2/add_type2 are the корпус,
-- строение… parts. Their parameters (postal code, ОКАТО, ОКТМО, tax
-- office, cadastral number) are in fias_house_params, read for the few
-- houses an answer shows: pivoting millions of them into columns would
-- cost an import more than all its reading.
CREATE TABLE fias_houses (
    region      smallint NOT NULL,
    object_id   bigint NOT NULL,
    guid        uuid NOT NULL,
    parent_id   bigint,
    house_num   text NOT NULL,
    house_type  smallint NOT NULL,
    add_num1    text NOT NULL,
    add_type1   smallint NOT NULL,
    add_num2    text NOT NULL,
    add_type2   smallint NOT NULL,
    updated     date
) PARTITION BY LIST (region);
CREATE UNIQUE INDEX fias_houses_id ON fias_houses (region, object_id);
CREATE INDEX fias_houses_guid ON fias_houses (guid);
CREATE INDEX fias_houses_parent ON fias_houses (parent_id, house_num text_pattern_ops);

-- The current values of the houses' parameters kept (GAR AS_PARAM_TYPES):
-- 1 and 2 the tax offices, 5 the postal code, 6 ОКАТО, 7 ОКТМО, 8 the
-- cadastral number.
CREATE TABLE fias_house_params (
    region    smallint NOT NULL,
    object_id bigint NOT NULL,
    type_id   smallint NOT NULL,
    value     text NOT NULL
) PARTITION BY LIST (region);
CREATE INDEX fias_house_params_object ON fias_house_params (object_id);
CREATE INDEX fias_house_params_cadastral ON fias_house_params (value) WHERE type_id = 8;

-- The reference tables, replaced whole by an import that brings them.
CREATE TABLE fias_object_types (
    id         integer PRIMARY KEY,
    level      smallint NOT NULL,
    short_name text NOT NULL,
    name       text NOT NULL,
    active     boolean NOT NULL
);
CREATE TABLE fias_house_types (
    kind       text NOT NULL, -- house, addhouse, apartment
    id         integer NOT NULL,
    short_name text NOT NULL,
    name       text NOT NULL,
    active     boolean NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE fias_levels (
    level  smallint PRIMARY KEY,
    name   text NOT NULL,
    active boolean NOT NULL
);

-- The regions served, with what their last import brought.
CREATE TABLE fias_regions (
    region    smallint PRIMARY KEY,
    objects   integer NOT NULL,
    houses    integer NOT NULL,
    files     text[] NOT NULL,
    loaded_at timestamptz NOT NULL
);

-- A region's import in progress: its staging tables' suffix, and per file
-- how many records were read and kept by the last committed batch, so that
-- a killed import resumes there.
CREATE TABLE fias_import_files (
    region  smallint NOT NULL,
    run     text NOT NULL,
    path    text NOT NULL,
    read    bigint NOT NULL,
    kept    bigint NOT NULL,
    done    boolean NOT NULL,
    PRIMARY KEY (region, path)
);
