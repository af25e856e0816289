package b24

import (
	"context"
	"encoding/json"
)

// Event names the softphone handles (upper case, as Bitrix24 sends them).
const (
	EventExternalCallStart     = "ONEXTERNALCALLSTART"
	EventExternalCallBackStart = "ONEXTERNALCALLBACKSTART"
)

// BindEvent subscribes handler to event; an empty handler with offline
// set binds the offline queue (event.bind EVENT_TYPE=offline).
func (c *Client) BindEvent(ctx context.Context, event, handler string, offline bool) error {
	p := Params{"event": event}
	if offline {
		p["event_type"] = "offline"
	} else {
		p["handler"] = handler
	}
	return c.Call(ctx, "event.bind", p, nil)
}

// UnbindEvent removes a subscription.
func (c *Client) UnbindEvent(ctx context.Context, event, handler string, offline bool) error {
	p := Params{"event": event}
	if offline {
		p["event_type"] = "offline"
	} else {
		p["handler"] = handler
	}
	return c.Call(ctx, "event.unbind", p, nil, Idempotent())
}

// BindOfflineEvent subscribes the offline queue of connector to event
// (event.bind EVENT_TYPE=offline AUTH_CONNECTOR=connector). Each connector
// has a queue of its own, so several readers (one per desktop) each see
// every event; "" is the app's default queue, the one BindEvent binds.
func (c *Client) BindOfflineEvent(ctx context.Context, event, connector string) error {
	p := Params{"event": event, "event_type": "offline"}
	if connector != "" {
		p["auth_connector"] = connector
	}
	return c.Call(ctx, "event.bind", p, nil)
}

// Binding is one subscription (event.get).
type Binding struct {
	Event   String `json:"event"`
	Handler String `json:"handler"`
	Offline Int    `json:"offline"`
	// Connector is the offline queue's AUTH_CONNECTOR ("" the default one).
	Connector String `json:"connector_id"`
}

// Bindings lists the app's subscriptions.
func (c *Client) Bindings(ctx context.Context) ([]Binding, error) {
	var out []Binding
	err := c.Call(ctx, "event.get", nil, &out)
	return out, err
}

// OfflineEvent is one queued event (event.offline.get).
type OfflineEvent struct {
	ID            Int             `json:"ID"`
	Timestamp     Time            `json:"TIMESTAMP_X"`
	Event         String          `json:"EVENT_NAME"`
	Data          json.RawMessage `json:"EVENT_DATA"`
	AdditionalRaw json.RawMessage `json:"EVENT_ADDITIONAL"`
	MessageID     String          `json:"MESSAGE_ID"`
}

// OfflineBatch is what event.offline.get returned.
type OfflineBatch struct {
	ProcessID String         `json:"process_id"`
	Events    []OfflineEvent `json:"events"`
}

// OfflineEvents takes up to limit queued events without clearing them: they
// stay reserved under ProcessID until ClearOfflineEvents (after they were
// handled) or OfflineEventsError.
func (c *Client) OfflineEvents(ctx context.Context, limit int) (OfflineBatch, error) {
	return c.OfflineEventsOf(ctx, "", limit)
}

// OfflineEventsOf is OfflineEvents for the queue of connector (see
// BindOfflineEvent).
func (c *Client) OfflineEventsOf(ctx context.Context, connector string, limit int) (OfflineBatch, error) {
	p := Params{"clear": 0, "limit": limit}
	if connector != "" {
		p["auth_connector"] = connector
	}
	var out OfflineBatch
	err := c.Call(ctx, "event.offline.get", p, &out)
	return out, err
}

// ClearOfflineEvents removes handled events of a process.
func (c *Client) ClearOfflineEvents(ctx context.Context, processID string, ids []int) error {
	return c.Call(ctx, "event.offline.clear", Params{"process_id": processID, "id": ids}, nil, Idempotent())
}

// OfflineEventsError marks events of a process as failed, for a later try.
func (c *Client) OfflineEventsError(ctx context.Context, processID string, messageIDs []string) error {
	return c.Call(ctx, "event.offline.error", Params{"process_id": processID, "message_id": messageIDs}, nil, Idempotent())
}
