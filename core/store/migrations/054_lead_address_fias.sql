-- A lead's address may be structured from the address register: its flat
-- and the register's ids (a constant default: no table rewrite).
ALTER TABLE leads
    ADD COLUMN addr_flat text NOT NULL DEFAULT '',
    ADD COLUMN addr_fias_id text NOT NULL DEFAULT '',
    ADD COLUMN addr_fias_level integer NOT NULL DEFAULT 0,
    ADD COLUMN addr_kladr_id text NOT NULL DEFAULT '',
    ADD COLUMN addr_oktmo text NOT NULL DEFAULT '';
