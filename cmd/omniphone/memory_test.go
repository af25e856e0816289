package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAfterStart(t *testing.T) {
	for _, tc := range []struct {
		name          string
		start, cancel bool
		wantRun       bool
	}{
		{"runs once the app has started and settled", true, false, true},
		{"not before the app has started", false, true, false},
		{"not after quitting while it settles", true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			started := make(chan struct{})
			if tc.start {
				close(started)
			}
			delay := 20 * time.Millisecond
			if tc.cancel {
				delay = time.Hour
				cancel()
			}
			ran := make(chan struct{}, 2)
			done := make(chan struct{})
			go func() {
				defer close(done)
				afterStart(ctx, started, delay, func() { ran <- struct{}{} })
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("afterStart did not return")
			}
			require.Equal(t, tc.wantRun, len(ran) == 1)
		})
	}
}
