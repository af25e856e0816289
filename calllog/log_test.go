package calllog

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/crm/events"
	crmsync "github.com/omniphone/omniphone/crm/sync"
	"github.com/omniphone/omniphone/settings"
	"github.com/omniphone/omniphone/sip"
)

// sinkFunc adapts a function to Sink.
type sinkFunc func(ctx context.Context, record []byte) (crmsync.CallStatus, bool, error)

func (f sinkFunc) Submit(ctx context.Context, record []byte) (crmsync.CallStatus, bool, error) {
	return f(ctx, record)
}

func TestLog_EndedSubmitsTheRecordWithItsLink(t *testing.T) {
	var (
		mu  sync.Mutex
		got []crm.Call
	)
	l := New(Options{Account: settings.SIPAccount{User: "101"}, Sink: sinkFunc(func(ctx context.Context, rec []byte) (crmsync.CallStatus, bool, error) {
		_, hasDeadline := ctx.Deadline()
		require.True(t, hasDeadline, "the hand-over is bounded")
		var c crm.Call
		require.NoError(t, json.Unmarshal(rec, &c))
		mu.Lock()
		got = append(got, c)
		mu.Unlock()
		return crmsync.CallStatus{State: "queued"}, true, nil
	})})
	l.Link("", Link{Bitrix24CallID: "externalCall.1"})
	l.Ended(sip.CallEvent{Call: &sip.Call{}, State: sip.CallActive}) // not the end: ignored
	l.Ended(sip.CallEvent{Call: &sip.Call{}, State: sip.CallEnded, Cause: sip.CauseRemoteHangup})
	l.Close()
	require.Len(t, got, 1)
	require.Equal(t, "externalCall.1", *got[0].Bitrix24CallID)
	require.Equal(t, []string{"101"}, got[0].Rung)
}

func TestLog_AnsweredElsewhereIsNotSubmitted(t *testing.T) {
	var n int
	l := New(Options{Sink: sinkFunc(func(context.Context, []byte) (crmsync.CallStatus, bool, error) {
		n++
		return crmsync.CallStatus{State: "queued"}, true, nil
	})})
	l.Ended(sip.CallEvent{Call: &sip.Call{}, State: sip.CallEnded, Cause: sip.CauseAnsweredElsewhere})
	l.Close()
	require.Zero(t, n, "the device that answered reports the call")
	l.Ended(sip.CallEvent{Call: &sip.Call{}, State: sip.CallEnded, Cause: sip.CauseCancelled})
	l.Close()
	require.Equal(t, 1, n, "a call the caller cancelled is a missed call and is sent")
}

func TestLog_SinkErrorIsReported(t *testing.T) {
	boom := errors.New("engine stopped")
	done := make(chan error, 1)
	l := New(Options{
		Sink: sinkFunc(func(context.Context, []byte) (crmsync.CallStatus, bool, error) {
			return crmsync.CallStatus{}, false, boom
		}),
		OnSubmitted: func(_ []byte, _ crmsync.CallStatus, err error) { done <- err },
	})
	l.Ended(sip.CallEvent{Call: &sip.Call{}, State: sip.CallEnded})
	l.Close()
	require.ErrorIs(t, <-done, boom)
}

func TestLog_NoSinkDoesNotBlock(t *testing.T) {
	l := New(Options{})
	l.Ended(sip.CallEvent{Call: &sip.Call{}, State: sip.CallEnded})
	l.Close()
}

func TestDialer_CallbackNeedsTheWindow(t *testing.T) {
	d := Dialer{Log: New(Options{})}
	err := d.Dial(context.Background(), events.DialRequest{Number: "+79161234567", RingFirst: true})
	require.ErrorIs(t, err, ErrCallbackNeedsWindow)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, d.Dial(ctx, events.DialRequest{Number: "1"}), context.Canceled)
}
