-- The Bank of Russia's BIK directory (ED807), as bank lookups answer it.
-- A bank a newer directory no longer lists stays, liquidated on that
-- directory's date: an old invoice's БИК still resolves. status, kind, rank
-- and search are the domain's (core.Bank's Status, Kind, Rank, SearchText),
-- stored so that a lookup filters, orders and matches in SQL.

CREATE TABLE banks (
    bic                   text PRIMARY KEY,
    name                  text NOT NULL,
    english_name          text NOT NULL,
    registration_number   text NOT NULL,
    correspondent_account text NOT NULL,
    treasury_accounts     text[] NOT NULL,
    swift                 text NOT NULL,
    postcode              text NOT NULL,
    settlement_type       text NOT NULL,
    settlement            text NOT NULL,
    address               text NOT NULL,
    region                text NOT NULL,
    parent_bic            text NOT NULL,
    participant_type      text NOT NULL,
    participant_status    text NOT NULL,
    restrictions          text NOT NULL,
    date_in               date,
    date_out              date,
    directory_date        date NOT NULL,
    status                text NOT NULL,
    kind                  text NOT NULL,
    rank                  smallint NOT NULL,
    search                text NOT NULL
);
CREATE INDEX banks_swift ON banks (swift) WHERE swift <> '';
CREATE INDEX banks_correspondent_account ON banks (correspondent_account text_pattern_ops);
CREATE INDEX banks_registration_number ON banks (registration_number);

-- The directory loaded last (one row).
CREATE TABLE bank_directory (
    one          boolean PRIMARY KEY DEFAULT true CHECK (one),
    date         date NOT NULL,
    business_day date,
    banks        integer NOT NULL,
    imported_at  timestamptz NOT NULL
);
