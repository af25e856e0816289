package b24

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Shared reads.
//
// A sync engine reads a snapshot of the CRM for every call: one batch of
// about ten reads. With several calls at once, their batches can travel
// as one request (up to 50 commands): each batch's keys get a prefix of
// their own ("r0_", "r1_", …, none a prefix of another), the $result
// references inside it follow, and the answer is split back by prefix.
// Only reads are shared — sending one again changes nothing, so a failed
// shared request fails each of its batches as a failed batch of its own
// would — and only batches without halt that fit one request.
//
// It works as group commit does: a batch that finds no request under way
// is sent at once, alone; batches that arrive while one is under way (or
// waits for the rate limiter) go together in the next. So a lone call
// waits for nothing, and under load — or at the portal's 2 requests/s —
// the reads of several calls cost one request.

// sharedReq is one caller's batch.
type sharedReq struct {
	b    *Batch
	res  *BatchResult
	err  error
	done chan struct{} // closed when res and err are set
	lead chan struct{} // a signal: this caller sends the next request
}

// coalescer queues shared batches; the caller at the head of the queue
// sends the next request when none is under way.
type coalescer struct {
	mu      sync.Mutex
	leading bool // a caller is sending, or has been told to send
	queue   []*sharedReq
}

// BatchShared runs b as Batch does. A batch of reads that fits one request
// may travel in one request with other callers' batches (see above);
// anything else is sent as Batch sends it.
func (c *Client) BatchShared(ctx context.Context, b *Batch) (*BatchResult, error) {
	if err := b.validate(); err != nil {
		return nil, err // before it joins others: its keys would fail theirs
	}
	if b.halt || len(b.cmds) == 0 || len(b.cmds) > MaxBatch || !b.readOnly() {
		return c.Batch(ctx, b)
	}
	req := &sharedReq{b: b, done: make(chan struct{}), lead: make(chan struct{}, 1)}
	co := &c.shared
	co.mu.Lock()
	co.queue = append(co.queue, req)
	lead := !co.leading
	co.leading = true
	co.mu.Unlock()
	if !lead {
		select {
		case <-req.done:
			return req.res, req.err
		case <-req.lead:
		case <-ctx.Done():
			co.leave(req)
			return nil, ctx.Err()
		}
	}
	c.sendShared(ctx)
	<-req.done // it was at the head of the queue: the request carried it
	return req.res, req.err
}

// leave takes req out of the queue when its caller gives up; if req had
// been told to send the next request, the next in the queue is.
func (co *coalescer) leave(req *sharedReq) {
	co.mu.Lock()
	defer co.mu.Unlock()
	i := slices.Index(co.queue, req)
	if i < 0 {
		return // in a request under way: its answer is dropped
	}
	co.queue = slices.Delete(co.queue, i, i+1)
	select {
	case <-req.lead:
		co.handOn()
	default:
	}
}

// handOn tells the head of the queue to send the next request, or notes
// that nobody is sending. co.mu is held.
func (co *coalescer) handOn() {
	if len(co.queue) == 0 {
		co.leading = false
		return
	}
	co.queue[0].lead <- struct{}{}
}

// sendShared sends the batches at the head of the queue that fit one
// request, hands each its part of the answer, and hands the sending on.
func (c *Client) sendShared(ctx context.Context) {
	co := &c.shared
	co.mu.Lock()
	n, cmds := 0, 0
	for _, r := range co.queue {
		if n > 0 && cmds+len(r.b.cmds) > MaxBatch {
			break
		}
		n, cmds = n+1, cmds+len(r.b.cmds)
	}
	round := slices.Clone(co.queue[:n])
	co.queue = slices.Delete(co.queue, 0, n)
	co.mu.Unlock()

	if len(round) == 1 {
		round[0].res, round[0].err = c.Batch(ctx, round[0].b)
	} else {
		merged := NewBatch()
		for i, r := range round {
			prefix := "r" + strconv.Itoa(i) + "_"
			for _, cmd := range r.b.cmds {
				merged.Add(prefix+cmd.key, cmd.method, prefixRefs(cmd.params, prefix))
			}
		}
		res, err := c.Batch(ctx, merged)
		for i, r := range round {
			if err != nil {
				r.err = err
				continue
			}
			r.res = splitResult(res, "r"+strconv.Itoa(i)+"_")
		}
	}
	for _, r := range round {
		close(r.done)
	}
	co.mu.Lock()
	co.handOn()
	co.mu.Unlock()
}

// splitResult is the part of a shared answer whose keys carry prefix,
// under the keys its caller gave.
func splitResult(res *BatchResult, prefix string) *BatchResult {
	out := newBatchResult()
	for k, v := range res.Results {
		if key, ok := strings.CutPrefix(k, prefix); ok {
			out.Results[key] = v
		}
	}
	for k, v := range res.Errors {
		if key, ok := strings.CutPrefix(k, prefix); ok {
			e := *v
			e.Method = "batch:" + key
			out.Errors[key] = &e
		}
	}
	for k, v := range res.Totals {
		if key, ok := strings.CutPrefix(k, prefix); ok {
			out.Totals[key] = v
		}
	}
	for k, v := range res.Nexts {
		if key, ok := strings.CutPrefix(k, prefix); ok {
			out.Nexts[key] = v
		}
	}
	return out
}

// prefixRefs copies params with every $result reference's key prefixed.
func prefixRefs(params Params, prefix string) Params {
	if params == nil {
		return nil
	}
	var walk func(v any) (any, error)
	walk = func(v any) (any, error) {
		switch x := v.(type) {
		case string:
			if rest, ok := strings.CutPrefix(x, "$result["); ok && refPattern.MatchString(x) {
				return "$result[" + prefix + rest, nil
			}
			return x, nil
		case Params:
			m, err := walkMap(x, walk)
			return Params(m), err
		case map[string]any:
			return walkMap(x, walk)
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i], _ = walk(e)
			}
			return out, nil
		case []string:
			out := make([]string, len(x))
			for i, e := range x {
				r, _ := walk(e)
				out[i] = r.(string)
			}
			return out, nil
		default:
			return v, nil
		}
	}
	out, _ := walkMap(params, walk) // walk never fails
	return out
}
