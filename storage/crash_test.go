package storage_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"modelsmith/storage"
)

const (
	crashChildEnv  = "MODELSMITH_STORAGE_CRASH_CHILD"
	crashCols      = 3
	crashChunks    = 8
	crashChunkSize = 32 << 10
)

// TestCrashMidWrite kills a process that is writing datasets as fast as it can,
// reopens the workspace and checks that it is intact, that every commit the
// child reported survived, and that each dataset is whole: all its columns and
// chunks or nothing.
func TestCrashMidWrite(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := filepath.Join(t.TempDir(), "crash.modelsmith")
	for round := range 3 {
		committed := runAndKill(t, path, time.Duration(round*7)*time.Millisecond)

		ws, err := storage.Open(context.Background(), path)
		if err != nil {
			t.Fatalf("round %d: reopen after the crash: %v", round, err)
		}
		err = ws.View(context.Background(), func(tx *storage.Tx) error {
			ds, err := tx.Datasets()
			if err != nil {
				return err
			}
			if len(ds) < committed {
				t.Errorf("round %d: %d datasets after the crash, the child reported %d commits", round, len(ds), committed)
			}
			for _, d := range ds {
				cols, err := tx.Columns(d.ID)
				if err != nil {
					return err
				}
				if len(cols) != crashCols {
					t.Errorf("%s@%d has %d columns, want %d", d.Name, d.Version, len(cols), crashCols)
				}
				for c := range crashCols {
					chunks, err := tx.Chunks(d.ID, c, 0, d.Rows)
					if err != nil {
						return err
					}
					if len(chunks) != crashChunks {
						t.Errorf("%s@%d column %d has %d chunks, want %d", d.Name, d.Version, c, len(chunks), crashChunks)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := ws.IntegrityCheck(context.Background()); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if err := ws.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// runAndKill starts the child writer, lets it report a few commits, waits a
// little more and kills it. It returns the number of commits the child
// reported before it died.
func runAndKill(t *testing.T, path string, extra time.Duration) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashMidWrite$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan int)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if n, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
				v, _ := strconv.Atoi(n)
				lines <- v
			}
		}
	}()
	committed := 0
	timeout := time.After(30 * time.Second)
	for committed < 3 {
		select {
		case n, ok := <-lines:
			if !ok {
				t.Fatalf("child ended early: %v", cmd.Wait())
			}
			committed = n
		case <-timeout:
			cmd.Process.Kill()
			t.Fatal("child made no progress")
		}
	}
	time.Sleep(extra)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for n := range lines {
		committed = n
	}
	_ = cmd.Wait()
	return committed
}

// crashChild writes datasets until it is killed, printing the number of
// commits after each one.
func crashChild(path string) {
	ctx := context.Background()
	ws, err := storage.Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	r := rand.New(rand.NewPCG(uint64(os.Getpid()), 1))
	data := make([]byte, crashChunkSize)
	for i := 1; ; i++ {
		err := ws.Update(ctx, func(tx *storage.Tx) error {
			d := storage.Dataset{Name: "crash", SourceKind: "file", Hash: hashOf(strconv.Itoa(r.Int())),
				Rows: crashChunks * 100, Cols: crashCols}
			if err := tx.InsertDataset(&d); err != nil {
				return err
			}
			cols := make([]storage.Column, crashCols)
			for c := range cols {
				cols[c] = storage.Column{Position: c, Name: fmt.Sprint("c", c), Type: "numeric"}
			}
			if err := tx.InsertColumns(d.ID, cols); err != nil {
				return err
			}
			for c := range crashCols {
				for k := range crashChunks {
					for j := range data {
						data[j] = byte(r.Uint32())
					}
					if err := tx.InsertChunk(d.ID, storage.Chunk{Column: c, Index: k, RowStart: int64(k * 100), Rows: 100, Data: data}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("committed %d\n", i)
	}
}
