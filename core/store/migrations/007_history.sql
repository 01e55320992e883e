-- Record history is read from the outbox: events of one record in order.
CREATE INDEX outbox_entity_history ON outbox (entity_id, entity_version);
