-- The calls list pages by creation time (newest first).
CREATE INDEX calls_created ON calls (created_at, id);
CREATE INDEX calls_owner ON calls (owner_id, created_at);
