package b24

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24sim"
)

// sharedSetup is a simulator with n contacts (phones +7900000000i) and a
// client limited to 2 requests/s with a burst of 1, so that batches queue
// behind a request waiting for the limiter.
func sharedSetup(t *testing.T, n int) (simBundle, *Client) {
	t.Helper()
	b := setup(t, b24sim.Options{Seed: &b24sim.Seed{}}, nil)
	ctx := context.Background()
	for i := range n {
		_, err := b.client.AddEntity(ctx, Contact, Params{"NAME": fmt.Sprintf("Client %d", i),
			"PHONE": []Params{{"VALUE": fmt.Sprintf("+7900000000%d", i), "VALUE_TYPE": "WORK"}}}, nil)
		require.NoError(t, err)
	}
	c, err := New(Options{Portal: b.srv.URL, Auth: Webhook{UserID: 1, Code: webhookCode}, Limit: Limit{Rate: 2, Burst: 1}, Sleep: noSleep})
	require.NoError(t, err)
	return b, c
}

// snapshotRead is a sync engine's kind of read: a duplicate search and the
// contacts it found, through a $result reference.
func snapshotRead(phone string) *Batch {
	return NewBatch().
		Add("dup", "crm.duplicate.findbycomm", Params{"type": "PHONE", "values": []string{phone}}).
		Add("contacts", "crm.contact.list", Params{"filter": Params{"ID": Ref("dup", "CONTACT")}, "select": []string{"ID", "NAME"}})
}

// contactNames decodes snapshotRead's contacts.
func contactNames(t *testing.T, res *BatchResult) []string {
	t.Helper()
	var list []struct {
		Name string `json:"NAME"`
	}
	require.NoError(t, res.Decode("contacts", &list))
	var names []string
	for _, c := range list {
		names = append(names, c.Name)
	}
	return names
}

// TestRef1_7_SharedReadsTravelTogether: eight callers read at once; the
// first request goes alone, the others wait for the limiter together and
// travel as one request. Each caller gets exactly its own answer, under
// its own keys, as if it had sent its batch alone — the references inside
// each batch point to its own commands.
func TestRef1_7_SharedReadsTravelTogether(t *testing.T) {
	const callers = 8
	b, c := sharedSetup(t, callers)
	before := b.requests(t).Total
	var wg sync.WaitGroup
	results := make([]*BatchResult, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			results[i], errs[i] = c.BatchShared(context.Background(), snapshotRead(fmt.Sprintf("+7900000000%d", i)))
		})
	}
	wg.Wait()
	for i := range callers {
		require.NoError(t, errs[i])
		require.Equal(t, []string{fmt.Sprintf("Client %d", i)}, contactNames(t, results[i]), "caller %d", i)
		require.Len(t, results[i].Results, 2, "only the caller's own keys")
	}
	sent := b.requests(t).Total - before
	t.Logf("%d callers' reads in %d requests", callers, sent)
	require.Less(t, sent, callers, "reads waiting at once share a request")
	require.LessOrEqual(t, sent, 3)
}

// TestRef1_7_SharedReadErrorsStayWithTheirBatch: a command that fails
// fails only in its caller's answer; writes and halting batches are sent
// on their own.
func TestRef1_7_SharedReadErrorsStayWithTheirBatch(t *testing.T) {
	b, c := sharedSetup(t, 3)
	ctx := context.Background()
	err := c.Call(ctx, "crm.settings.mode.get", nil, nil) // takes the burst
	require.NoError(t, err)
	before := b.requests(t).Total
	var wg sync.WaitGroup
	wg.Go(func() { _, err = c.BatchShared(ctx, snapshotRead("+79000000002")) }) // sends, waiting for the limiter
	waitSending(t, c)
	var good, bad *BatchResult
	var goodErr, badErr error
	wg.Go(func() { good, goodErr = c.BatchShared(ctx, snapshotRead("+79000000000")) })
	wg.Go(func() {
		bad, badErr = c.BatchShared(ctx, NewBatch().Add("nothing", "crm.nothing.list", nil).Add("dup", "crm.duplicate.findbycomm",
			Params{"type": "PHONE", "values": []string{"+79000000001"}}))
	})
	wg.Wait()
	require.NoError(t, goodErr)
	require.NoError(t, badErr)
	require.Equal(t, []string{"Client 0"}, contactNames(t, good))
	require.Empty(t, good.Errors)
	require.Contains(t, bad.Errors, "nothing")
	require.Equal(t, "batch:nothing", bad.Errors["nothing"].Method)
	require.Contains(t, bad.Results, "dup")
	require.NoError(t, err)
	require.Equal(t, 2, b.requests(t).Total-before, "the two batches that waited shared one request")

	// A batch with a bad key is refused before it could join (and fail)
	// the others' request.
	_, err = c.BatchShared(ctx, NewBatch().Add("bad-key", "crm.lead.list", nil))
	require.ErrorContains(t, err, `key "bad-key"`)

	before = b.requests(t).Total
	write := NewBatch().Add("lead", "crm.lead.add", Params{"fields": Params{"TITLE": "x"}})
	halting := snapshotRead("+79000000000").Halt()
	wg.Go(func() { _, goodErr = c.BatchShared(ctx, write) })
	wg.Go(func() { _, badErr = c.BatchShared(ctx, halting) })
	wg.Wait()
	require.NoError(t, goodErr)
	require.NoError(t, badErr)
	require.Equal(t, 2, b.requests(t).Total-before, "a write and a halting batch are not shared")
}

// TestRef1_7_SharedReadCallerGivesUp: a caller waiting for a shared
// request gives up (its context ends); it leaves the queue, and the
// callers behind it are still sent.
func TestRef1_7_SharedReadCallerGivesUp(t *testing.T) {
	_, c := sharedSetup(t, 3)
	ctx := context.Background()
	err := c.Call(ctx, "crm.settings.mode.get", nil, nil) // takes the burst
	require.NoError(t, err)
	first := make(chan error, 1)
	go func() {
		_, err := c.BatchShared(ctx, snapshotRead("+79000000000")) // waits ~0.5 s for the limiter
		first <- err
	}()
	waitSending(t, c)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = c.BatchShared(short, snapshotRead("+79000000001"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	res, err := c.BatchShared(ctx, snapshotRead("+79000000002"))
	require.NoError(t, err)
	require.Equal(t, []string{"Client 2"}, contactNames(t, res))
	require.NoError(t, <-first)
	c.shared.mu.Lock()
	defer c.shared.mu.Unlock()
	require.False(t, c.shared.leading, "nobody is left sending")
	require.Empty(t, c.shared.queue)
}

func TestPrefixRefs(t *testing.T) {
	in := Params{
		"filter": Params{"ID": Ref("dup", "CONTACT"), "NAME": "$result is not a reference"},
		"list":   []any{Ref("a"), "x"},
		"names":  []string{Ref("b", "0")},
		"n":      7,
	}
	out := prefixRefs(in, "r3_")
	require.Equal(t, Params{
		"filter": Params{"ID": "$result[r3_dup][CONTACT]", "NAME": "$result is not a reference"},
		"list":   []any{"$result[r3_a]", "x"},
		"names":  []string{"$result[r3_b][0]"},
		"n":      7,
	}, out)
	require.Equal(t, Ref("dup", "CONTACT"), in["filter"].(Params)["ID"], "the caller's params are not changed")
	require.Nil(t, prefixRefs(nil, "r0_"))
}

// waitSending waits until a caller is sending a shared request (it took
// the queue and waits for the limiter).
func waitSending(t *testing.T, c *Client) {
	t.Helper()
	require.Eventually(t, func() bool {
		c.shared.mu.Lock()
		defer c.shared.mu.Unlock()
		return c.shared.leading && len(c.shared.queue) == 0
	}, 2*time.Second, time.Millisecond, "a caller is sending")
}
