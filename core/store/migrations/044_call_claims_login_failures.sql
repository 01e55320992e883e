-- What a provider signed, bound to the one call it belongs to: Zadarma
-- signs a notification's numbers and start time but not its call id, so a
-- captured notification replayed under another call id is refused
-- (connectors/telephony). A claim is needed only while its notification
-- could still be accepted; expired ones are pruned.
CREATE TABLE call_claims (
    provider   text NOT NULL,
    claim      text NOT NULL,
    value      text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (provider, claim)
);
CREATE INDEX call_claims_expiry ON call_claims (expires_at);

-- Failed logins in a row per user name and per client address
-- (core.LoginThrottle), shared by every replica of the hub.
CREATE TABLE login_failures (
    key     text PRIMARY KEY,
    count   integer NOT NULL,
    last_at timestamptz NOT NULL
);
CREATE INDEX login_failures_last ON login_failures (last_at);
