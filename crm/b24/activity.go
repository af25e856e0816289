package b24

import "context"

// Activity directions and the call type.
const (
	ActivityTypeCall  = 2
	DirectionIncoming = 1
	DirectionOutgoing = 2
)

// Activity is a CRM activity as the integration reads it.
type Activity struct {
	ID             Int             `json:"ID"`
	OwnerID        Int             `json:"OWNER_ID"`
	OwnerTypeID    Int             `json:"OWNER_TYPE_ID"`
	TypeID         Int             `json:"TYPE_ID"`
	Subject        String          `json:"SUBJECT"`
	Completed      Flag            `json:"COMPLETED"`
	Status         Int             `json:"STATUS"`
	ResponsibleID  Int             `json:"RESPONSIBLE_ID"`
	Direction      Int             `json:"DIRECTION"`
	StartTime      Time            `json:"START_TIME"`
	EndTime        Time            `json:"END_TIME"`
	OriginatorID   String          `json:"ORIGINATOR_ID"`
	OriginID       String          `json:"ORIGIN_ID"`
	Communications []Communication `json:"COMMUNICATIONS"`
}

// Communication is an activity's phone (or e-mail) and whose it is.
type Communication struct {
	Type         String `json:"TYPE,omitempty"`
	Value        String `json:"VALUE"`
	EntityID     Int    `json:"ENTITY_ID,omitempty"`
	EntityTypeID Int    `json:"ENTITY_TYPE_ID,omitempty"`
}

// AddActivity creates an activity (crm.activity.add) and returns its ID.
func (c *Client) AddActivity(ctx context.Context, fields Params) (int, error) {
	var id Int
	if err := c.Call(ctx, "crm.activity.add", Params{"fields": fields}, &id); err != nil {
		return 0, err
	}
	return int(id), nil
}

// UpdateActivity changes an activity (crm.activity.update).
func (c *Client) UpdateActivity(ctx context.Context, id int, fields Params, opts ...CallOption) error {
	return c.Call(ctx, "crm.activity.update", Params{"id": id, "fields": fields}, nil, opts...)
}

// ListActivities lists activities matching filter, with communications.
func (c *Client) ListActivities(ctx context.Context, filter Params) ([]Activity, error) {
	return ListAll[Activity](ctx, c, "crm.activity.list", Params{
		"filter": filter, "select": []string{"*", "COMMUNICATIONS"}, "order": Params{"ID": "ASC"},
	})
}

// ActivitiesByOrigin finds the activities written for one call, for
// idempotency: ORIGINATOR_ID is the integration, ORIGIN_ID the call.
func (c *Client) ActivitiesByOrigin(ctx context.Context, originatorID, originID string) ([]Activity, error) {
	return c.ListActivities(ctx, Params{"ORIGINATOR_ID": originatorID, "ORIGIN_ID": originID})
}
