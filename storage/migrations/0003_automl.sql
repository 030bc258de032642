-- Modelsmith workspace schema, version 3: AutoML searches.
--
-- An AutoML search is an experiment of kind 'automl'; each trial it finishes
-- is a row of runs (algorithm, params, score, costs), written in its own
-- transaction as the trial finishes, plus one row here for what runs does not
-- hold: the trial's index in the search, its search status (a trial stopped
-- early by the search is 'pruned'), its prediction latency, and its
-- out-of-fold (or holdout) predictions, which a resumed search needs for
-- ensembling. The final model of a search gets a run of its own with role
-- 'final' (trial NULL): the single winner refitted, or the ensemble.

CREATE TABLE automl_trials (
    run_id         INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    experiment_id  INTEGER NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    role           TEXT    NOT NULL DEFAULT 'trial' CHECK (role IN ('trial', 'final')),
    trial          INTEGER CHECK ((role = 'trial') = (trial IS NOT NULL) AND (trial IS NULL OR trial >= 0)),
    status         TEXT    NOT NULL CHECK (status IN ('succeeded', 'failed', 'pruned')),
    predict_micros REAL    NOT NULL DEFAULT 0 CHECK (predict_micros >= 0),
    note           TEXT    NOT NULL DEFAULT '',
    -- The hyperparameters to refit the trial on all rows with, when they
    -- differ from runs.params (the rounds early stopping found); NULL if not.
    refit_params   TEXT    CHECK (refit_params IS NULL OR json_valid(refit_params)),
    -- Out-of-fold predictions: oof_rows × oof_outputs float64 values,
    -- little-endian, row-major, in the search's validation row order; NULL
    -- when the trial has none (it failed).
    oof_rows       INTEGER NOT NULL DEFAULT 0 CHECK (oof_rows >= 0),
    oof_outputs    INTEGER NOT NULL DEFAULT 0 CHECK (oof_outputs >= 0),
    oof            BLOB    CHECK (oof IS NULL OR length(oof) = 8 * oof_rows * oof_outputs),
    UNIQUE (experiment_id, trial)
);
CREATE INDEX automl_trials_by_experiment ON automl_trials (experiment_id);
