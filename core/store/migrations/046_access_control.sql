-- Access control: roles in a hierarchy with rights per entity and action,
-- teams, record-level shares, password sign-in with sessions, and the
-- audit log. The seeded roles are written after the migrations
-- (store.seedRoles), from core.SeedRoles: one definition of them.

CREATE TABLE roles (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    parent_id   uuid REFERENCES roles (id),
    description text NOT NULL DEFAULT '',
    rights      jsonb NOT NULL DEFAULT '{}',
    fields      jsonb NOT NULL DEFAULT '{}',
    areas       text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    version     bigint NOT NULL DEFAULT 1,
    deleted_at  timestamptz
);
CREATE UNIQUE INDEX roles_name ON roles (lower(name)) WHERE deleted_at IS NULL;
CREATE INDEX roles_parent ON roles (parent_id) WHERE deleted_at IS NULL;

CREATE TABLE teams (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    member_ids  uuid[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    version     bigint NOT NULL DEFAULT 1,
    deleted_at  timestamptz
);
CREATE UNIQUE INDEX teams_name ON teams (lower(name)) WHERE deleted_at IS NULL;
CREATE INDEX teams_members ON teams USING gin (member_ids) WHERE deleted_at IS NULL;

-- A user without a role has the default one («Менеджер»). oidc_subject is
-- the user's id at the identity provider when auth.oidc.user_claim is not
-- the e-mail.
ALTER TABLE users
    ADD COLUMN role_id uuid REFERENCES roles (id),
    ADD COLUMN password_hash text NOT NULL DEFAULT '',
    ADD COLUMN password_changed_at timestamptz,
    ADD COLUMN oidc_subject text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX users_oidc_subject ON users (oidc_subject) WHERE oidc_subject <> '' AND deleted_at IS NULL;
CREATE INDEX users_role ON users (role_id) WHERE deleted_at IS NULL;

-- One grantee (a user or a team) per record; read or edit.
CREATE TABLE record_shares (
    id         uuid PRIMARY KEY,
    entity     text NOT NULL,
    record_id  uuid NOT NULL,
    user_id    uuid REFERENCES users (id),
    team_id    uuid REFERENCES teams (id),
    access     text NOT NULL CHECK (access IN ('read', 'edit')),
    created_by text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    CHECK ((user_id IS NULL) <> (team_id IS NULL))
);
CREATE UNIQUE INDEX record_shares_grantee ON record_shares (entity, record_id, coalesce(user_id, team_id));
CREATE INDEX record_shares_user ON record_shares (user_id, entity, record_id) WHERE user_id IS NOT NULL;
CREATE INDEX record_shares_team ON record_shares (team_id, entity, record_id) WHERE team_id IS NOT NULL;

-- Sessions of users signed in with a password (or OIDC): only the token's
-- SHA-256 is kept.
CREATE TABLE auth_sessions (
    id         uuid PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE,
    user_id    uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    ip         text NOT NULL DEFAULT ''
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX auth_sessions_expiry ON auth_sessions (expires_at);

-- Who did what (logins, exports, report runs, deletions, changes of
-- rights), kept auth.audit_retention (a year by default).
CREATE TABLE audit_log (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL,
    user_id   uuid,
    actor_id  text NOT NULL DEFAULT '',
    action    text NOT NULL,
    entity    text NOT NULL DEFAULT '',
    record_id text NOT NULL DEFAULT '',
    ip        text NOT NULL DEFAULT '',
    detail    jsonb
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_user ON audit_log (user_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);

-- A record may be owned by a team as well as by its responsible user.
ALTER TABLE leads ADD COLUMN team_id uuid REFERENCES teams (id);
ALTER TABLE accounts ADD COLUMN team_id uuid REFERENCES teams (id);
ALTER TABLE contacts ADD COLUMN team_id uuid REFERENCES teams (id);
ALTER TABLE deals ADD COLUMN team_id uuid REFERENCES teams (id);
ALTER TABLE activities ADD COLUMN team_id uuid REFERENCES teams (id);
ALTER TABLE calls ADD COLUMN team_id uuid REFERENCES teams (id);
ALTER TABLE quotes ADD COLUMN team_id uuid REFERENCES teams (id);
ALTER TABLE invoices ADD COLUMN team_id uuid REFERENCES teams (id);
ALTER TABLE acts ADD COLUMN team_id uuid REFERENCES teams (id);
ALTER TABLE realizations ADD COLUMN team_id uuid REFERENCES teams (id);
ALTER TABLE sales_orders ADD COLUMN team_id uuid REFERENCES teams (id);
ALTER TABLE purchase_orders ADD COLUMN team_id uuid REFERENCES teams (id);
ALTER TABLE payments ADD COLUMN team_id uuid REFERENCES teams (id);
ALTER TABLE emails ADD COLUMN team_id uuid REFERENCES teams (id);
ALTER TABLE reports ADD COLUMN team_id uuid REFERENCES teams (id);
ALTER TABLE report_schedules ADD COLUMN team_id uuid REFERENCES teams (id);
CREATE INDEX leads_team ON leads (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX accounts_team ON accounts (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX contacts_team ON contacts (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX deals_team ON deals (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX activities_team ON activities (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX calls_team ON calls (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX quotes_team ON quotes (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX invoices_team ON invoices (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX acts_team ON acts (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX realizations_team ON realizations (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX sales_orders_team ON sales_orders (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX purchase_orders_team ON purchase_orders (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX payments_team ON payments (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX emails_team ON emails (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX reports_team ON reports (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX report_schedules_team ON report_schedules (team_id) WHERE team_id IS NOT NULL;
