-- Ingest of billing exports: the full account record (debtor contact data included: this is
-- the one table that holds it), its content hash to detect change, the import that last saw
-- it (for snapshot closure and duplicate detection), the imports themselves with their
-- checkpoint (a killed import resumes after its last committed batch), and the warnings.

ALTER TABLE ingest.accounts
    ADD COLUMN payload        json,   -- kept as written (json, not jsonb: no re-parse per import)
    ADD COLUMN content_hash   text,
    ADD COLUMN status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    ADD COLUMN last_import_id uuid,
    ADD COLUMN last_line      bigint;

CREATE TABLE ingest.imports (
    import_id    uuid PRIMARY KEY,
    tenant       text NOT NULL,
    source       text NOT NULL,        -- file name or "http:<batch id>"
    sha256       text NOT NULL,        -- of the whole input: the same file is the same import
    mode         text NOT NULL CHECK (mode IN ('delta', 'snapshot')),
    as_of        date NOT NULL,
    event_time   timestamptz NOT NULL, -- fixed at the start, so a resumed import derives the same events
    status       text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done')),
    lines_done   bigint NOT NULL DEFAULT 0,
    records_read bigint NOT NULL DEFAULT 0,
    accepted     bigint NOT NULL DEFAULT 0,
    rejected     bigint NOT NULL DEFAULT 0,
    placed       bigint NOT NULL DEFAULT 0,
    updated      bigint NOT NULL DEFAULT 0,
    unchanged    bigint NOT NULL DEFAULT 0,
    closed       bigint NOT NULL DEFAULT 0,
    warnings     bigint NOT NULL DEFAULT 0,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    CHECK (accepted + rejected = records_read)
);
CREATE INDEX imports_tenant ON ingest.imports (tenant, started_at);

ALTER TABLE ingest.rejects
    ADD COLUMN import_id uuid REFERENCES ingest.imports (import_id),
    ADD COLUMN line      bigint;
CREATE INDEX rejects_import ON ingest.rejects (import_id, line);

CREATE TABLE ingest.warnings (
    id         bigserial PRIMARY KEY,
    import_id  uuid REFERENCES ingest.imports (import_id),
    tenant     text NOT NULL,
    account_id text NOT NULL,
    line       bigint,
    code       text NOT NULL,
    field      text,
    detail     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX warnings_account ON ingest.warnings (tenant, account_id);

CREATE INDEX accounts_open_by_import ON ingest.accounts (tenant, last_import_id) WHERE status = 'open';
