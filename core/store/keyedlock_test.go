package store

import (
	"context"
	"testing"
	"time"
)

func TestKeyedLock(t *testing.T) {
	var k keyedLock
	ctx := context.Background()
	unlockA, err := k.lock(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	unlockB, err := k.lock(ctx, "b") // another key is free
	if err != nil {
		t.Fatal(err)
	}
	unlockB()
	got := make(chan struct{})
	go func() {
		unlock, err := k.lock(ctx, "a")
		if err == nil {
			unlock()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("a held key was taken twice")
	case <-time.After(50 * time.Millisecond):
	}
	short, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := k.lock(short, "a"); err == nil {
		t.Fatal("a cancelled wait took the key")
	}
	unlockA()
	<-got // the waiter got it once it was released
	if len(k.held) != 0 {
		t.Fatalf("released keys are forgotten, held: %v", k.held)
	}
}
