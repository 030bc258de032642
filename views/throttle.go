package views

import (
	"sync"
	"time"
)

// coalescer turns a stream of "something changed" signals from worker
// goroutines into at most one post per interval: the first signal after a
// quiet spell posts at once, later ones within the interval are folded into
// one post at its end. fn runs on the UI goroutine and reads the latest state.
type coalescer struct {
	interval time.Duration
	fn       func()

	mu      sync.Mutex
	last    time.Time
	pending bool
}

func newCoalescer(interval time.Duration, fn func()) *coalescer {
	return &coalescer{interval: interval, fn: fn}
}

// signal says the state changed; any goroutine.
func (c *coalescer) signal() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending {
		return
	}
	c.pending = true
	wait := c.interval - time.Since(c.last)
	if wait <= 0 {
		go c.fire()
		return
	}
	time.AfterFunc(wait, c.fire)
}

func (c *coalescer) fire() {
	c.mu.Lock()
	c.pending = false
	c.last = time.Now()
	c.mu.Unlock()
	post(c.fn)
}

// newest numbers the requests of a background load whose answers may come
// back out of order (two reloads, the second started after a change), so
// that only the newest answer is shown and a stale one never overwrites it.
// UI goroutine only.
type newest struct{ n uint64 }

// start begins a request; the func it returns says, on the UI goroutine,
// whether that request is still the newest.
func (g *newest) start() func() bool {
	g.n++
	n := g.n
	return func() bool { return n == g.n }
}
