// Package storage is the Modelsmith workspace: one SQLite file that holds
// datasets, jobs, the audit log and settings (and, in later schema versions,
// experiments, runs, models, deployments and predictions).
//
// It is the bottom layer of the program: it imports no other package of this
// module and deals in plain value types (Dataset, Column, Chunk, Job, ...).
// What the bytes of a chunk or a profile mean is for ml/data to say; the app
// layer translates between the two.
//
// All access goes through transactions in the style of bbolt:
//
//	err := ws.Update(ctx, func(tx *storage.Tx) error {
//		return tx.InsertDataset(&d)
//	})
//
// Update runs on the single writer connection (BEGIN IMMEDIATE) and commits
// when the function returns nil; View runs on a pool of read-only connections
// and sees one consistent snapshot. The schema is a documented, stable
// interface: see docs/SCHEMA.md.
//
// # Caveats
//
//   - A *Tx is valid only inside the function it was given to. Do not keep it,
//     and do not use it from another goroutine.
//   - Updates are serialised: a long Update blocks every other writer of the
//     workspace, in this process and in others (up to the busy timeout, 10 s).
//     Do slow work (parsing, encoding, training) before Update, not inside it.
//   - Calling Update or View from inside an Update's function deadlocks on the
//     writer connection (Update) or reads the state before the outer
//     transaction (View). Use the Tx you were given.
//   - Timestamps are stored to the millisecond in UTC; values read back are UTC
//     and truncated to milliseconds.
package storage
