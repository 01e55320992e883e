-- Phone calls, one row per provider call however many events reported it.
CREATE TABLE calls (
    id                 uuid PRIMARY KEY,
    provider           text NOT NULL,
    provider_call_id   text NOT NULL,
    direction          text NOT NULL DEFAULT '',
    from_number        text NOT NULL DEFAULT '',
    to_number          text NOT NULL DEFAULT '',
    client_number      text NOT NULL DEFAULT '',
    extension          text NOT NULL DEFAULT '',
    answered_extension text NOT NULL DEFAULT '',
    pbx_user           text NOT NULL DEFAULT '',
    started_at         timestamptz,
    answered_at        timestamptz,
    ended_at           timestamptz,
    duration           integer NOT NULL DEFAULT 0,
    disposition        text NOT NULL DEFAULT '',
    recording_url      text NOT NULL DEFAULT '',
    final              boolean NOT NULL DEFAULT false,
    lead_id            uuid REFERENCES leads (id),
    contact_id         uuid REFERENCES contacts (id),
    account_id         uuid REFERENCES accounts (id),
    activity_id        uuid REFERENCES activities (id),
    owner_id           uuid NOT NULL REFERENCES users (id),
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    version            bigint NOT NULL,
    UNIQUE (provider, provider_call_id)
);
CREATE INDEX calls_started ON calls (started_at, id);
CREATE INDEX calls_client_number ON calls (client_number) WHERE client_number <> '';
CREATE INDEX calls_lead ON calls (lead_id) WHERE lead_id IS NOT NULL;
CREATE INDEX calls_contact ON calls (contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX calls_account ON calls (account_id) WHERE account_id IS NOT NULL;
