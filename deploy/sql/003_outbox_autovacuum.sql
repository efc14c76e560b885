-- The outboxes are queues: every row is deleted soon after it is written, so dead rows pile
-- up faster than the default autovacuum thresholds (20% of the table) notice, and the
-- relay's ordered scan walks through them. Vacuum them after a fixed number of changes.
DO $$
DECLARE s text;
BEGIN
  FOREACH s IN ARRAY ARRAY['ingest', 'scoring', 'outreach', 'reconciliation'] LOOP
    EXECUTE format('ALTER TABLE %I.outbox SET (autovacuum_vacuum_scale_factor = 0,
        autovacuum_vacuum_threshold = 5000, autovacuum_analyze_scale_factor = 0,
        autovacuum_analyze_threshold = 5000)', s);
  END LOOP;
END $$;
