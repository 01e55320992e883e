-- What the 1C exchange last applied to each good, by its Ид: the item it
-- became and a digest of the fields 1C sent, so a repeated catalog skips
-- the goods that did not change.
CREATE TABLE onec_items (
    onec_id    text PRIMARY KEY,
    entity     text NOT NULL,
    item_id    uuid NOT NULL,
    digest     text NOT NULL,
    updated_at timestamptz NOT NULL
);
