-- Processed deliveries are pruned by age.
CREATE INDEX inbox_processed ON inbox (processed_at) WHERE status = 'done';
