package b24

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

// Call types for telephony.externalCall.register.
const (
	CallOutgoing         = 1
	CallIncoming         = 2
	CallIncomingRedirect = 3
	CallCallback         = 4
)

// RegisterCall are telephony.externalCall.register's parameters.
type RegisterCall struct {
	UserID         int
	UserPhoneInner string
	PhoneNumber    string
	Type           int
	StartDate      time.Time
	// CRMCreate lets Bitrix24 create a lead for an unknown number; the sync
	// engine creates entities itself and leaves it false (SPEC D2).
	CRMCreate      bool
	CRMEntityType  string
	CRMEntityID    int
	Show           bool
	LineNumber     string
	ExternalCallID string
}

// RegisteredCall is what register returns.
type RegisteredCall struct {
	CallID             String `json:"CALL_ID"`
	CRMCreatedLead     Int    `json:"CRM_CREATED_LEAD"`
	CRMEntityType      String `json:"CRM_ENTITY_TYPE"`
	CRMEntityID        Int    `json:"CRM_ENTITY_ID"`
	LeadCreationError  String `json:"LEAD_CREATION_ERROR"`
	CRMCreatedEntities []struct {
		EntityType String `json:"ENTITY_TYPE"`
		EntityID   Int    `json:"ENTITY_ID"`
	} `json:"CRM_CREATED_ENTITIES"`
}

func flag01(b bool) int {
	if b {
		return 1
	}
	return 0
}

// RegisterCall registers a call for telephony statistics and the call card.
func (c *Client) RegisterCall(ctx context.Context, r RegisterCall) (RegisteredCall, error) {
	p := Params{
		"PHONE_NUMBER":    r.PhoneNumber,
		"TYPE":            r.Type,
		"CALL_START_DATE": r.StartDate.Format(time.RFC3339),
		"CRM_CREATE":      flag01(r.CRMCreate),
		"SHOW":            flag01(r.Show),
	}
	if r.UserID > 0 {
		p["USER_ID"] = r.UserID
	} else {
		p["USER_PHONE_INNER"] = r.UserPhoneInner
	}
	if r.CRMEntityType != "" {
		p["CRM_ENTITY_TYPE"], p["CRM_ENTITY_ID"] = r.CRMEntityType, r.CRMEntityID
	}
	if r.LineNumber != "" {
		p["LINE_NUMBER"] = r.LineNumber
	}
	if r.ExternalCallID != "" {
		p["EXTERNAL_CALL_ID"] = r.ExternalCallID
	}
	var out RegisteredCall
	// With EXTERNAL_CALL_ID Bitrix24 returns the same call for a repeated
	// register within 30 minutes, which makes a retry safe.
	var opts []CallOption
	if r.ExternalCallID != "" {
		opts = append(opts, Idempotent())
	}
	err := c.Call(ctx, "telephony.externalcall.register", p, &out, opts...)
	return out, err
}

// FinishCall are telephony.externalCall.finish's parameters.
type FinishCall struct {
	CallID         string
	UserID         int
	UserPhoneInner string
	Duration       time.Duration
	// StatusCode is 200 (answered), 304 (missed), 486 (busy), 603 (declined)…
	StatusCode   string
	FailedReason string
	AddToChat    bool
}

// FinishedCall is what finish returns.
type FinishedCall struct {
	CallID        String `json:"CALL_ID"`
	CRMActivityID Int    `json:"CRM_ACTIVITY_ID"`
	CRMEntityType String `json:"CRM_ENTITY_TYPE"`
	CRMEntityID   Int    `json:"CRM_ENTITY_ID"`
	PortalUserID  Int    `json:"PORTAL_USER_ID"`
	CallDuration  Int    `json:"CALL_DURATION"`
	FailedCode    String `json:"CALL_FAILED_CODE"`
}

// FinishCall ends a registered call; Bitrix24 then writes its own call
// activity. A finish is not repeated: the call is gone afterwards, so a
// retry answers "Call is not found".
func (c *Client) FinishCall(ctx context.Context, f FinishCall) (FinishedCall, error) {
	p := Params{
		"CALL_ID":     f.CallID,
		"DURATION":    int(f.Duration.Round(time.Second) / time.Second),
		"ADD_TO_CHAT": flag01(f.AddToChat),
	}
	if f.UserID > 0 {
		p["USER_ID"] = f.UserID
	} else {
		p["USER_PHONE_INNER"] = f.UserPhoneInner
	}
	if f.StatusCode != "" {
		p["STATUS_CODE"] = f.StatusCode
	}
	if f.FailedReason != "" {
		p["FAILED_REASON"] = f.FailedReason
	}
	var out FinishedCall
	err := c.Call(ctx, "telephony.externalcall.finish", p, &out)
	return out, err
}

// ShowCard and HideCard open and close Bitrix24's own call card for users.
func (c *Client) ShowCard(ctx context.Context, callID string, userIDs ...int) error {
	return c.Call(ctx, "telephony.externalcall.show", Params{"CALL_ID": callID, "USER_ID": userIDs}, nil, Idempotent())
}

// HideCard closes Bitrix24's call card.
func (c *Client) HideCard(ctx context.Context, callID string, userIDs ...int) error {
	return c.Call(ctx, "telephony.externalcall.hide", Params{"CALL_ID": callID, "USER_ID": userIDs}, nil, Idempotent())
}

// CRMMatch is one entity telephony.externalCall.searchCrmEntities found.
type CRMMatch struct {
	EntityType   String `json:"CRM_ENTITY_TYPE"`
	EntityID     Int    `json:"CRM_ENTITY_ID"`
	AssignedByID Int    `json:"ASSIGNED_BY_ID"`
	Name         String `json:"NAME"`
	AssignedBy   struct {
		ID             Int    `json:"ID"`
		TimemanStatus  String `json:"TIMEMAN_STATUS"`
		UserPhoneInner String `json:"USER_PHONE_INNER"`
	} `json:"ASSIGNED_BY"`
}

// SearchCRM finds who a number belongs to, with each match's responsible
// and whether that person is at work (TIMEMAN_STATUS).
func (c *Client) SearchCRM(ctx context.Context, phone string) ([]CRMMatch, error) {
	var out []CRMMatch
	err := c.Call(ctx, "telephony.externalcall.searchcrmentities", Params{"PHONE_NUMBER": phone}, &out)
	return out, err
}

// AttachRecord attaches a recording (wav or mp3) to a finished call, sent
// inline as FILE_CONTENT.
func (c *Client) AttachRecord(ctx context.Context, callID, filename string, content []byte) (fileID int, err error) {
	var out struct {
		FileID Int `json:"FILE_ID"`
	}
	err = c.Call(ctx, "telephony.externalcall.attachrecord", Params{
		"CALL_ID": callID, "FILENAME": filename, "FILE_CONTENT": base64.StdEncoding.EncodeToString(content),
	}, &out)
	return int(out.FileID), err
}

// AttachRecordURL attaches a recording that Bitrix24 downloads itself.
func (c *Client) AttachRecordURL(ctx context.Context, callID, filename, recordURL string) error {
	return c.Call(ctx, "telephony.externalcall.attachrecord", Params{
		"CALL_ID": callID, "FILENAME": filename, "RECORD_URL": recordURL,
	}, nil)
}

// ExternalLine is a line the app registered (telephony.externalLine.*).
type ExternalLine struct {
	Number        String `json:"NUMBER"`
	Name          String `json:"NAME"`
	CRMAutoCreate Flag   `json:"CRM_AUTO_CREATE"`
}

// AddExternalLine registers a line; crmAutoCreate false keeps Bitrix24 from
// creating leads of its own for calls on it (SPEC D2).
func (c *Client) AddExternalLine(ctx context.Context, number, name string, crmAutoCreate bool) error {
	auto := "N"
	if crmAutoCreate {
		auto = "Y"
	}
	return c.Call(ctx, "telephony.externalline.add", Params{"NUMBER": number, "NAME": name, "CRM_AUTO_CREATE": auto}, nil, Idempotent())
}

// UpdateExternalLine sets a line's name and CRM_AUTO_CREATE flag.
func (c *Client) UpdateExternalLine(ctx context.Context, number, name string, crmAutoCreate bool) error {
	auto := "N"
	if crmAutoCreate {
		auto = "Y"
	}
	p := Params{"NUMBER": number, "CRM_AUTO_CREATE": auto}
	if name != "" {
		p["NAME"] = name
	}
	return c.Call(ctx, "telephony.externalline.update", p, nil, Idempotent())
}

// ExternalLines lists the app's lines.
func (c *Client) ExternalLines(ctx context.Context) ([]ExternalLine, error) {
	var raw json.RawMessage
	if err := c.Call(ctx, "telephony.externalline.get", nil, &raw); err != nil {
		return nil, err
	}
	var out []ExternalLine
	if err := json.Unmarshal(raw, &out); err != nil {
		var none Object // [] when there are none, rarely {}
		if json.Unmarshal(raw, &none) == nil && len(none) == 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("telephony.externalline.get: %w", err)
	}
	return out, nil
}
