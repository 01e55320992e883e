-- The PBX login last seen on a user's calls, for answering a PBX's "whose
-- client is calling" with the responsible employee's login, from an index.
CREATE INDEX calls_owner_login ON calls (owner_id, updated_at DESC) WHERE pbx_user <> '';
