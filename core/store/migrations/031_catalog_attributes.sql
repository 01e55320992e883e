-- Named characteristics of goods and services (1C's properties and
-- requisites, or anything the API sets), and the 1C properties the
-- exchange has seen, so a catalog split over several files (1C:УТ 11's
-- package mode) still names the values of properties defined elsewhere.
ALTER TABLE products ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}';
ALTER TABLE services ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}';

CREATE TABLE onec_properties (
    onec_id    text PRIMARY KEY,
    name       text NOT NULL,
    variants   jsonb NOT NULL DEFAULT '{}', -- ИдЗначения → value, for Справочник properties
    updated_at timestamptz NOT NULL
);
