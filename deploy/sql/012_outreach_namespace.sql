-- Outreach records the topic namespace each account came through, so that its safety sweep
-- (steps due but missing from the Redis schedule, e.g. after a flush raced a rebuild) only
-- ever schedules its own deployment's accounts when several share one database.
ALTER TABLE outreach.accounts ADD COLUMN namespace text NOT NULL DEFAULT '';
