package store

import (
	"context"
	"sync"
)

// keyedLock lets one caller at a time hold a key. Webhooks are delivered
// again while the first delivery is still being written (a sender's
// timeout, a retry storm): without it the two race to the same unique key,
// and the loser's conflict rolls back every write sharing its group
// commit, which then run again one by one.
type keyedLock struct {
	mu   sync.Mutex
	held map[string]chan struct{} // closed when released
}

// lock waits until key is free (or ctx ends) and takes it; unlock frees it.
func (k *keyedLock) lock(ctx context.Context, key string) (unlock func(), err error) {
	for {
		k.mu.Lock()
		busy, ok := k.held[key]
		if !ok {
			if k.held == nil {
				k.held = map[string]chan struct{}{}
			}
			done := make(chan struct{})
			k.held[key] = done
			k.mu.Unlock()
			return func() {
				k.mu.Lock()
				delete(k.held, key)
				k.mu.Unlock()
				close(done)
			}, nil
		}
		k.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
