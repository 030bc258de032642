-- Modelsmith workspace schema, version 1.
--
-- Applied in one transaction by storage.migrate, which then sets
-- PRAGMA application_id and PRAGMA user_version. Forward-only: never edit a
-- migration that has shipped; add the next numbered file instead.
--
-- Conventions (docs/SCHEMA.md):
--   * ids are INTEGER PRIMARY KEY (rowid aliases);
--   * timestamps are TEXT, UTC, ISO-8601 with milliseconds: 2026-11-25T03:58:40.123Z;
--   * "no value" is NULL for timestamps, JSON and references, '' for plain text;
--   * enumerated text columns carry CHECK constraints;
--   * references say what happens on delete, so nothing is ever orphaned.

-- Background work. Defined first: datasets point at the job that imported them.
CREATE TABLE jobs (
    id                INTEGER PRIMARY KEY,
    kind              TEXT    NOT NULL CHECK (kind <> ''),
    title             TEXT    NOT NULL DEFAULT '',
    status            TEXT    NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
    progress          REAL    NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    message           TEXT    NOT NULL DEFAULT '',
    error             TEXT    NOT NULL DEFAULT '',
    owner_pid         INTEGER NOT NULL DEFAULT 0 CHECK (owner_pid >= 0),
    owner_start       TEXT    NOT NULL DEFAULT '',
    owner_host        TEXT    NOT NULL DEFAULT '',
    created_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                      CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    started_at        TEXT    CHECK (started_at LIKE '____-__-__T__:__:__.___Z'),
    finished_at       TEXT    CHECK (finished_at LIKE '____-__-__T__:__:__.___Z'),
    cpu_seconds       REAL    NOT NULL DEFAULT 0 CHECK (cpu_seconds >= 0),
    peak_memory_bytes INTEGER NOT NULL DEFAULT 0 CHECK (peak_memory_bytes >= 0),
    result            TEXT    CHECK (result IS NULL OR json_valid(result))
);
CREATE INDEX jobs_by_status ON jobs (status);

-- One imported version of a dataset. The data itself is in dataset_chunks.
CREATE TABLE datasets (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL CHECK (name <> ''),
    version      INTEGER NOT NULL CHECK (version >= 1),
    source_kind  TEXT    NOT NULL CHECK (source_kind IN ('file', 'url', 's3', 'sql', 'sample')),
    source       TEXT    NOT NULL DEFAULT '',
    format       TEXT    NOT NULL DEFAULT '',
    hash         TEXT    NOT NULL CHECK (length(hash) = 64 AND hash NOT GLOB '*[^0-9a-f]*'),
    row_count    INTEGER NOT NULL CHECK (row_count >= 0),
    column_count INTEGER NOT NULL CHECK (column_count >= 0),
    stored_bytes INTEGER NOT NULL DEFAULT 0 CHECK (stored_bytes >= 0),
    created_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                 CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    job_id       INTEGER REFERENCES jobs (id) ON DELETE SET NULL,
    UNIQUE (name, version)
);
CREATE INDEX datasets_by_hash ON datasets (hash);
CREATE INDEX datasets_by_job ON datasets (job_id);

-- The columns of one dataset version, with their profile.
CREATE TABLE dataset_columns (
    dataset_id INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL CHECK (position >= 0),
    name       TEXT    NOT NULL,
    type       TEXT    NOT NULL CHECK (type IN ('numeric', 'categorical', 'text', 'datetime', 'image')),
    role       TEXT    NOT NULL DEFAULT 'feature' CHECK (role IN ('feature', 'target', 'id', 'ignore')),
    hint       TEXT    NOT NULL DEFAULT '',
    profile    TEXT    CHECK (profile IS NULL OR json_valid(profile)),
    PRIMARY KEY (dataset_id, position),
    UNIQUE (dataset_id, name)
) WITHOUT ROWID;

-- Column data, one column at a time in chunks of about 64k rows, encoded and
-- zstd-compressed by ml/data's chunk codec (ml/data/codec.go). A rowid table on
-- purpose: WITHOUT ROWID suits small rows, not large BLOBs. The reference to the
-- column is deferred so that an import may write chunks before columns within
-- its transaction; it is still checked at commit.
CREATE TABLE dataset_chunks (
    dataset_id      INTEGER NOT NULL,
    column_position INTEGER NOT NULL,
    chunk_index     INTEGER NOT NULL CHECK (chunk_index >= 0),
    row_start       INTEGER NOT NULL CHECK (row_start >= 0),
    row_count       INTEGER NOT NULL CHECK (row_count >= 0),
    data            BLOB    NOT NULL,
    PRIMARY KEY (dataset_id, column_position, chunk_index),
    FOREIGN KEY (dataset_id, column_position) REFERENCES dataset_columns (dataset_id, position)
        ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);

-- Who did what, when. Append-only: the triggers below refuse UPDATE and DELETE.
-- AUTOINCREMENT so that an id is never reused, even after a VACUUM.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                CHECK (at LIKE '____-__-__T__:__:__.___Z'),
    actor       TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL CHECK (action <> ''),
    object_type TEXT NOT NULL DEFAULT '',
    object_name TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_by_at ON audit_log (at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: rows cannot be updated');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: rows cannot be deleted');
END;

-- INSERT OR REPLACE would delete the old row without firing the DELETE trigger
-- (recursive_triggers is off), so an insert may not reuse an id.
CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: rows cannot be replaced');
END;

-- Workspace-wide key/value settings.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY CHECK (key <> ''),
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
               CHECK (updated_at LIKE '____-__-__T__:__:__.___Z')
) WITHOUT ROWID;
