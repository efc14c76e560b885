-- An account's warnings (a landline marked for SMS, a time zone that had to be derived) live
-- on the account row as written by the import that last saw it (last_import_id, last_line):
-- one row per warning in a table of their own cost the import more than storing the
-- accounts, and what matters is the account's data quality now.
ALTER TABLE ingest.accounts ADD COLUMN warnings json; -- [{"code", "field", "detail"}], NULL: none
DROP TABLE ingest.warnings;
