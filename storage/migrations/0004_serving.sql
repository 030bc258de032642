-- Modelsmith workspace schema, version 4: serving.
--
-- model_aliases: named pointers (prod, staging, ...) to one version of a
--   model; a server started on M@prod follows the alias when it moves;
-- api_tokens: bearer tokens for the inference server, stored only as the
--   SHA-256 of the token; workspace-wide: once one exists, every request to
--   every server of this workspace needs a valid one;
-- deployments: one served model of one server process;
-- predictions: every row a deployment scored, written in batches after the
--   response was sent.

CREATE TABLE model_aliases (
    model_name TEXT    NOT NULL,
    alias      TEXT    NOT NULL CHECK (alias <> '' AND alias NOT GLOB '*[^A-Za-z0-9_.-]*'
                                       AND alias NOT GLOB '[0-9]*'),
    version    INTEGER NOT NULL,
    updated_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
               CHECK (updated_at LIKE '____-__-__T__:__:__.___Z'),
    PRIMARY KEY (model_name, alias),
    FOREIGN KEY (model_name, version) REFERENCES models (name, version) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX model_aliases_by_version ON model_aliases (model_name, version);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL DEFAULT '',
    hash         TEXT NOT NULL UNIQUE CHECK (length(hash) = 64 AND hash NOT GLOB '*[^0-9a-f]*'),
    prefix       TEXT NOT NULL DEFAULT '', -- the token's first characters, to recognise it
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                 CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    revoked_at   TEXT CHECK (revoked_at LIKE '____-__-__T__:__:__.___Z')
);

CREATE TABLE deployments (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL CHECK (name <> ''), -- the name clients use: /v2/models/{name}
    model_ref   TEXT    NOT NULL CHECK (model_ref <> ''), -- as asked: M, M@3 or M@alias
    model_id    INTEGER REFERENCES models (id) ON DELETE SET NULL, -- the version served last
    address     TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'stopped', 'failed', 'interrupted')),
    owner_pid   INTEGER NOT NULL DEFAULT 0,
    owner_start TEXT    NOT NULL DEFAULT '',
    owner_host  TEXT    NOT NULL DEFAULT '',
    settings    TEXT    CHECK (settings IS NULL OR json_valid(settings)),
    error       TEXT    NOT NULL DEFAULT '',
    started_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                CHECK (started_at LIKE '____-__-__T__:__:__.___Z'),
    stopped_at  TEXT    CHECK (stopped_at LIKE '____-__-__T__:__:__.___Z')
);
CREATE INDEX deployments_by_status ON deployments (status);
CREATE INDEX deployments_by_model ON deployments (model_id);

-- One scored row. inputs is a JSON object (column → value, null when
-- missing); outputs a JSON object: label and probabilities, or variable.
-- Both are written by the server's own encoder (fuzzed to emit valid JSON);
-- no json_valid CHECK here, since it would parse every row twice at
-- thousands of rows a second.
-- latency_ms is the whole request's time in the server. label is the ground
-- truth, filled in later by whoever learns it.
CREATE TABLE predictions (
    id            INTEGER PRIMARY KEY,
    deployment_id INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    model_id      INTEGER REFERENCES models (id) ON DELETE SET NULL,
    at            TEXT    NOT NULL CHECK (at LIKE '____-__-__T__:__:__.___Z'),
    request_id    TEXT    NOT NULL,
    row_index     INTEGER NOT NULL DEFAULT 0 CHECK (row_index >= 0),
    inputs        TEXT    NOT NULL,
    outputs       TEXT    NOT NULL,
    latency_ms    REAL    NOT NULL CHECK (latency_ms >= 0),
    label         TEXT
);
CREATE INDEX predictions_by_deployment ON predictions (deployment_id, at);
CREATE INDEX predictions_by_request ON predictions (request_id);
