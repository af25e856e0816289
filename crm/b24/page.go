package b24

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
)

// List pages through a list method (50 per page, start/next) and yields
// each item. Stop iterating to stop fetching. An error ends the sequence.
func (c *Client) List(ctx context.Context, method string, params Params) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		start := 0
		for {
			p := make(Params, len(params)+1)
			for k, v := range params {
				p[k] = v
			}
			p["start"] = start
			resp, err := c.Do(ctx, method, p)
			if err != nil {
				yield(nil, err)
				return
			}
			var items []json.RawMessage
			if err := json.Unmarshal(resp.Result, &items); err != nil {
				yield(nil, fmt.Errorf("bitrix24 %s: the result is not a list: %w", method, err))
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if resp.Next == nil || *resp.Next <= start {
				return
			}
			start = *resp.Next
		}
	}
}

// ListAll collects every item of a list method, decoded as T.
func ListAll[T any](ctx context.Context, c *Client, method string, params Params) ([]T, error) {
	var out []T
	for raw, err := range c.List(ctx, method, params) {
		if err != nil {
			return out, err
		}
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return out, fmt.Errorf("bitrix24 %s: decode item: %w", method, err)
		}
		out = append(out, v)
	}
	return out, nil
}
