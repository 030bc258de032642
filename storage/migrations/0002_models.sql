-- Modelsmith workspace schema, version 2: training and the model registry.
--
-- experiments: one training request (a custom train, later an AutoML search)
--   on one dataset version and target;
-- runs: the candidates trained for it, with their scores and costs;
-- run_metrics: learning curves, written while a run trains;
-- models: the registry: named, versioned, staged artifacts with their lineage.
--
-- Lineage survives deletion: a run keeps the dataset's name@version and hash
-- even when the dataset row is gone (dataset_id becomes NULL).

CREATE TABLE experiments (
    id             INTEGER PRIMARY KEY,
    kind           TEXT    NOT NULL CHECK (kind IN ('train', 'automl')),
    dataset_id     INTEGER REFERENCES datasets (id) ON DELETE SET NULL,
    dataset_ref    TEXT    NOT NULL CHECK (dataset_ref <> ''),
    dataset_hash   TEXT    NOT NULL CHECK (length(dataset_hash) = 64),
    target         TEXT    NOT NULL CHECK (target <> ''),
    task           TEXT    NOT NULL CHECK (task IN ('binary', 'multiclass', 'regression')),
    metric         TEXT    NOT NULL,
    budget_seconds REAL    NOT NULL DEFAULT 0 CHECK (budget_seconds >= 0),
    config         TEXT    CHECK (config IS NULL OR json_valid(config)),
    status         TEXT    NOT NULL DEFAULT 'running'
                   CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
    job_id         INTEGER REFERENCES jobs (id) ON DELETE SET NULL,
    created_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                   CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    finished_at    TEXT    CHECK (finished_at LIKE '____-__-__T__:__:__.___Z')
);
CREATE INDEX experiments_by_dataset ON experiments (dataset_id);
CREATE INDEX experiments_by_job ON experiments (job_id);

CREATE TABLE runs (
    id                INTEGER PRIMARY KEY,
    experiment_id     INTEGER NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    algorithm         TEXT    NOT NULL CHECK (algorithm <> ''),
    params            TEXT    NOT NULL CHECK (json_valid(params)),
    seed              INTEGER NOT NULL,
    status            TEXT    NOT NULL DEFAULT 'running'
                      CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
    score             REAL,   -- the experiment's metric on held-out data; NULL until known
    score_std         REAL,   -- its spread over cross-validation folds, when there were folds
    metrics           TEXT    CHECK (metrics IS NULL OR json_valid(metrics)),
    fit_seconds       REAL    NOT NULL DEFAULT 0 CHECK (fit_seconds >= 0),
    cpu_seconds       REAL    NOT NULL DEFAULT 0 CHECK (cpu_seconds >= 0),
    peak_memory_bytes INTEGER NOT NULL DEFAULT 0 CHECK (peak_memory_bytes >= 0),
    error             TEXT    NOT NULL DEFAULT '',
    started_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                      CHECK (started_at LIKE '____-__-__T__:__:__.___Z'),
    finished_at       TEXT    CHECK (finished_at LIKE '____-__-__T__:__:__.___Z')
);
CREATE INDEX runs_by_experiment ON runs (experiment_id);
CREATE INDEX runs_by_status ON runs (status);

-- One point of a learning curve. value is NULL where the number is not
-- finite (a validation loss without a validation set).
CREATE TABLE run_metrics (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name   TEXT    NOT NULL CHECK (name <> ''),
    step   INTEGER NOT NULL CHECK (step >= 0),
    value  REAL,
    PRIMARY KEY (run_id, name, step)
) WITHOUT ROWID;

CREATE TABLE models (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL CHECK (name <> ''),
    version         INTEGER NOT NULL CHECK (version >= 1),
    stage           TEXT    NOT NULL DEFAULT 'none'
                    CHECK (stage IN ('none', 'staging', 'production', 'archived')),
    run_id          INTEGER REFERENCES runs (id) ON DELETE SET NULL,
    algorithm       TEXT    NOT NULL CHECK (algorithm <> ''),
    task            TEXT    NOT NULL CHECK (task IN ('binary', 'multiclass', 'regression')),
    artifact        BLOB    NOT NULL,
    artifact_sha256 TEXT    NOT NULL CHECK (length(artifact_sha256) = 64),
    signature       TEXT    NOT NULL CHECK (json_valid(signature)),
    metrics         TEXT    CHECK (metrics IS NULL OR json_valid(metrics)),
    card            TEXT    CHECK (card IS NULL OR json_valid(card)),
    created_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                    CHECK (created_at LIKE '____-__-__T__:__:__.___Z'),
    UNIQUE (name, version)
);
CREATE INDEX models_by_run ON models (run_id);
