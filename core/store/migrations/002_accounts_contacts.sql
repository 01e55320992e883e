-- CRM core: accounts (контрагенты) with requisites, and contacts.

CREATE TABLE accounts (
    id                     uuid PRIMARY KEY,
    name                   text NOT NULL,
    type                   text NOT NULL DEFAULT '',
    legal_form             text NOT NULL DEFAULT '',
    inn                    text NOT NULL DEFAULT '',
    kpp                    text NOT NULL DEFAULT '',
    ogrn                   text NOT NULL DEFAULT '',
    okpo                   text NOT NULL DEFAULT '',
    bank_name              text NOT NULL DEFAULT '',
    bik                    text NOT NULL DEFAULT '',
    correspondent_account  text NOT NULL DEFAULT '',
    settlement_account     text NOT NULL DEFAULT '',
    legal_address          jsonb NOT NULL DEFAULT '{}',
    actual_address         jsonb NOT NULL DEFAULT '{}',
    phone                  text NOT NULL DEFAULT '',
    other_phone            text NOT NULL DEFAULT '',
    fax                    text NOT NULL DEFAULT '',
    email                  text NOT NULL DEFAULT '',
    other_email            text NOT NULL DEFAULT '',
    website                text NOT NULL DEFAULT '',
    industry               text NOT NULL DEFAULT '',
    description            text NOT NULL DEFAULT '',
    external_ids           jsonb NOT NULL DEFAULT '{}',
    owner_id               uuid NOT NULL REFERENCES users (id),
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    deleted_at             timestamptz,
    version                bigint NOT NULL
);
CREATE INDEX accounts_created ON accounts (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX accounts_updated ON accounts (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX accounts_name ON accounts (name, id) WHERE deleted_at IS NULL;
CREATE INDEX accounts_inn ON accounts (inn) WHERE inn <> '' AND deleted_at IS NULL;
CREATE INDEX accounts_phone ON accounts (phone) WHERE phone <> '';
CREATE INDEX accounts_email ON accounts (email) WHERE email <> '';
CREATE INDEX accounts_external_ids ON accounts USING gin (external_ids jsonb_path_ops);
CREATE INDEX accounts_owner ON accounts (owner_id);

CREATE TABLE contacts (
    id               uuid PRIMARY KEY,
    salutation       text NOT NULL DEFAULT '',
    first_name       text NOT NULL DEFAULT '',
    middle_name      text NOT NULL DEFAULT '',
    last_name        text NOT NULL,
    title            text NOT NULL DEFAULT '',
    department       text NOT NULL DEFAULT '',
    phone            text NOT NULL DEFAULT '',
    mobile           text NOT NULL DEFAULT '',
    other_phone      text NOT NULL DEFAULT '',
    email            text NOT NULL DEFAULT '',
    secondary_email  text NOT NULL DEFAULT '',
    account_id       uuid REFERENCES accounts (id),
    source           text NOT NULL DEFAULT '',
    do_not_call      boolean NOT NULL DEFAULT false,
    email_opt_out    boolean NOT NULL DEFAULT false,
    address          jsonb NOT NULL DEFAULT '{}',
    description      text NOT NULL DEFAULT '',
    external_ids     jsonb NOT NULL DEFAULT '{}',
    owner_id         uuid NOT NULL REFERENCES users (id),
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    deleted_at       timestamptz,
    version          bigint NOT NULL
);
CREATE INDEX contacts_created ON contacts (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_updated ON contacts (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_last_name ON contacts (last_name, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_account ON contacts (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX contacts_phone ON contacts (phone) WHERE phone <> '';
CREATE INDEX contacts_mobile ON contacts (mobile) WHERE mobile <> '';
CREATE INDEX contacts_email ON contacts (email) WHERE email <> '';
CREATE INDEX contacts_external_ids ON contacts USING gin (external_ids jsonb_path_ops);
CREATE INDEX contacts_owner ON contacts (owner_id);
