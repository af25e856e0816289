package b24

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// CRMMode is the portal's CRM mode (crm.settings.mode.get).
type CRMMode int

// CRM modes.
const (
	ModeClassic CRMMode = 1 // with leads
	ModeSimple  CRMMode = 2 // without leads: deals and contacts
)

// CRMMode returns whether the portal works with leads.
func (c *Client) CRMMode(ctx context.Context) (CRMMode, error) {
	var m Int
	if err := c.Call(ctx, "crm.settings.mode.get", nil, &m); err != nil {
		return 0, err
	}
	return CRMMode(m), nil
}

// EntityType names the CRM entity kinds in method names.
type EntityType string

// Entity types; the numbers are OWNER_TYPE_ID / ENTITY_TYPE_ID.
const (
	Lead    EntityType = "lead"
	Deal    EntityType = "deal"
	Contact EntityType = "contact"
	Company EntityType = "company"
)

// TypeID is the entity's numeric type (crm.enum.ownertype).
func (t EntityType) TypeID() int {
	switch t {
	case Lead:
		return 1
	case Deal:
		return 2
	case Contact:
		return 3
	case Company:
		return 4
	}
	return 0
}

// EntityTypeFromID maps OWNER_TYPE_ID back to its name.
func EntityTypeFromID(id int) EntityType {
	for _, t := range []EntityType{Lead, Deal, Contact, Company} {
		if t.TypeID() == id {
			return t
		}
	}
	return ""
}

// Multifield is one phone, e-mail or other multi-value entry.
type Multifield struct {
	ID        Int    `json:"ID,omitempty"`
	TypeID    String `json:"TYPE_ID,omitempty"`
	Value     String `json:"VALUE"`
	ValueType String `json:"VALUE_TYPE,omitempty"`
}

// Entity is the part of a lead, deal, contact or company the integration
// reads. Fields it does not know are in Extra (UF_CRM_* among them).
type Entity struct {
	ID                Int          `json:"ID"`
	Title             String       `json:"TITLE"`
	Name              String       `json:"NAME"`
	LastName          String       `json:"LAST_NAME"`
	AssignedByID      Int          `json:"ASSIGNED_BY_ID"`
	StatusID          String       `json:"STATUS_ID"`
	StatusSemanticID  String       `json:"STATUS_SEMANTIC_ID"`
	StageID           String       `json:"STAGE_ID"`
	StageSemanticID   String       `json:"STAGE_SEMANTIC_ID"`
	CategoryID        Int          `json:"CATEGORY_ID"`
	Closed            Flag         `json:"CLOSED"`
	ContactID         Int          `json:"CONTACT_ID"`
	CompanyID         Int          `json:"COMPANY_ID"`
	LeadID            Int          `json:"LEAD_ID"`
	SourceID          String       `json:"SOURCE_ID"`
	SourceDescription String       `json:"SOURCE_DESCRIPTION"`
	DateCreate        Time         `json:"DATE_CREATE"`
	DateModify        Time         `json:"DATE_MODIFY"`
	OriginatorID      String       `json:"ORIGINATOR_ID"`
	OriginID          String       `json:"ORIGIN_ID"`
	Phone             []Multifield `json:"PHONE"`
	// Extra holds every field of the answer, UF_CRM_* included.
	Extra Object `json:"-"`
}

// Semantic returns P (in progress), S (success) or F (failure), from
// STATUS_SEMANTIC_ID (leads) or STAGE_SEMANTIC_ID (deals).
func (e Entity) Semantic() string {
	if e.StageSemanticID != "" {
		return string(e.StageSemanticID)
	}
	return string(e.StatusSemanticID)
}

// UserField returns a UF_CRM_* value as text ("" when unset or not text).
func (e Entity) UserField(name string) string {
	raw, ok := e.Extra[name]
	if !ok {
		return ""
	}
	var s String
	if err := s.UnmarshalJSON(raw); err != nil {
		return ""
	}
	return string(s)
}

// UnmarshalJSON decodes the known fields and keeps all of them in Extra.
func (e *Entity) UnmarshalJSON(data []byte) error {
	type plain Entity
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	var all Object
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	*e = Entity(p)
	e.Extra = all
	return nil
}

// AddEntity creates an entity and returns its ID (crm.<type>.add).
// params may carry REGISTER_SONET_EVENT.
func (c *Client) AddEntity(ctx context.Context, t EntityType, fields Params, params Params) (int, error) {
	var id Int
	p := Params{"fields": fields}
	if params != nil {
		p["params"] = params
	}
	if err := c.Call(ctx, "crm."+string(t)+".add", p, &id); err != nil {
		return 0, err
	}
	return int(id), nil
}

// UpdateEntity changes fields of an entity (crm.<type>.update). Setting
// absolute values is idempotent; pass Idempotent() to let it be retried.
func (c *Client) UpdateEntity(ctx context.Context, t EntityType, id int, fields Params, opts ...CallOption) error {
	return c.Call(ctx, "crm."+string(t)+".update", Params{"id": id, "fields": fields}, nil, opts...)
}

// GetEntity reads one entity (crm.<type>.get).
func (c *Client) GetEntity(ctx context.Context, t EntityType, id int) (Entity, error) {
	var e Entity
	err := c.Call(ctx, "crm."+string(t)+".get", Params{"id": id}, &e)
	return e, err
}

// ListEntities reads every entity matching filter (crm.<type>.list),
// selecting select (nil: all standard fields, user fields and PHONE).
func (c *Client) ListEntities(ctx context.Context, t EntityType, filter Params, sel []string) ([]Entity, error) {
	if sel == nil {
		sel = []string{"*", "UF_*", "PHONE"}
	}
	return ListAll[Entity](ctx, c, "crm."+string(t)+".list", Params{"filter": filter, "select": sel, "order": Params{"ID": "ASC"}})
}

// Duplicates finds leads, contacts and companies by phone numbers
// (crm.duplicate.findbycomm); the map is keyed LEAD, CONTACT, COMPANY.
func (c *Client) Duplicates(ctx context.Context, phones []string, only ...EntityType) (map[string][]int, error) {
	p := Params{"type": "PHONE", "values": phones}
	if len(only) == 1 {
		p["entity_type"] = strings.ToUpper(string(only[0]))
	}
	var raw Object
	if err := c.Call(ctx, "crm.duplicate.findbycomm", p, &raw); err != nil {
		return nil, err
	}
	out := make(map[string][]int, len(raw))
	for k, v := range raw {
		var ids []Int
		if err := json.Unmarshal(v, &ids); err != nil {
			return nil, fmt.Errorf("crm.duplicate.findbycomm: %s: %w", k, err)
		}
		for _, id := range ids {
			out[k] = append(out[k], int(id))
		}
	}
	return out, nil
}

// Stage is a lead status or a deal stage.
type Stage struct {
	StatusID   String `json:"STATUS_ID"`
	Name       String `json:"NAME"`
	Sort       Int    `json:"SORT"`
	CategoryID Int    `json:"CATEGORY_ID"`
	Semantics  String `json:"SEMANTICS"`
	EntityID   String `json:"ENTITY_ID"`
}

// Statuses lists a status directory (crm.status.list): "STATUS" for lead
// statuses, "DEAL_STAGE" or "DEAL_STAGE_<n>" for deal stages.
func (c *Client) Statuses(ctx context.Context, entityID string) ([]Stage, error) {
	return ListAll[Stage](ctx, c, "crm.status.list", Params{"filter": Params{"ENTITY_ID": entityID}, "order": Params{"SORT": "ASC"}})
}

// Category is a deal pipeline.
type Category struct {
	ID        Int    `json:"id"`
	Name      String `json:"name"`
	Sort      Int    `json:"sort"`
	IsDefault Flag   `json:"isDefault"`
}

// DealCategories lists the deal pipelines (crm.category.list).
func (c *Client) DealCategories(ctx context.Context) ([]Category, error) {
	var out struct {
		Categories []Category `json:"categories"`
	}
	err := c.Call(ctx, "crm.category.list", Params{"entityTypeId": Deal.TypeID()}, &out)
	return out.Categories, err
}

// UserField describes a CRM user field (crm.<type>.userfield.list).
type UserField struct {
	ID           Int    `json:"ID"`
	FieldName    String `json:"FIELD_NAME"`
	UserTypeID   String `json:"USER_TYPE_ID"`
	Multiple     Flag   `json:"MULTIPLE"`
	EditFormName Object `json:"EDIT_FORM_LABEL"`
}

// UserFields lists an entity type's user fields.
func (c *Client) UserFields(ctx context.Context, t EntityType) ([]UserField, error) {
	return ListAll[UserField](ctx, c, "crm."+string(t)+".userfield.list", Params{})
}

// ContactItem is one contact of a deal (crm.deal.contact.items.get).
type ContactItem struct {
	ContactID Int  `json:"CONTACT_ID"`
	IsPrimary Flag `json:"IS_PRIMARY"`
}

// DealContacts lists a deal's contacts.
func (c *Client) DealContacts(ctx context.Context, dealID int) ([]ContactItem, error) {
	var out []ContactItem
	err := c.Call(ctx, "crm.deal.contact.items.get", Params{"id": dealID}, &out)
	return out, err
}
