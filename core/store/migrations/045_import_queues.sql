-- Import jobs run side by side, except those of one queue: a user's (or an
-- API key's without a user), which run one after another in the order they
-- were created. ClaimImport takes the oldest job whose queue has none
-- running nor an older one waiting.
ALTER TABLE imports ADD COLUMN queue text NOT NULL DEFAULT '';
UPDATE imports SET queue = 'user:' || owner_id::text;
CREATE INDEX imports_queue_active ON imports (queue, created_at, id) WHERE status IN ('queued', 'running');
