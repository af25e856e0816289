package rules

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/settings"
)

// Plan is what the sync engine must do for one call, in order.
type Plan struct {
	// CallID is the call's idempotency key (SPEC §11).
	CallID string `json:"call_id"`
	Ops    []Op   `json:"ops"`
}

// OpKind names an operation.
type OpKind string

// Operations of a plan, with the Bitrix24 method the executor uses.
const (
	// OpCreate creates an entity (crm.{entity}.add) from Fields and Links
	// and names it Ref.
	OpCreate OpKind = "create"
	// OpUpdate updates Target (crm.{entity}.update) with Fields.
	OpUpdate OpKind = "update"
	// OpAddActivity adds a call activity (crm.activity.add) from Fields,
	// bound to Bindings (the first one is the owner), and names it Ref.
	OpAddActivity OpKind = "add_activity"
	// OpCompleteActivity sets COMPLETED=Y on the activity Target.
	OpCompleteActivity OpKind = "complete_activity"
	// OpSchedule runs Ops after DelayMinutes, as a durable job (CP5).
	OpSchedule OpKind = "schedule"
	// OpUploadRecording attaches Recording to the activity Target, or to
	// the Bitrix24 call CallID (telephony.externalCall.attachRecord).
	OpUploadRecording OpKind = "upload_recording"
	// OpFinishCall finishes a call Bitrix24 registered
	// (telephony.externalCall.finish) with Fields; Bitrix24 writes its
	// activity itself.
	OpFinishCall OpKind = "finish_call"
	// OpNotify posts Fields["MESSAGE"] to the chat of Fields["USER_ID"]
	// (im.notify.system.add), followed by a link to Target when set.
	OpNotify OpKind = "notify"
	// OpJournal records the call in the local journal only; Reason says why
	// nothing reached the CRM.
	OpJournal OpKind = "journal"
)

// Op is one operation. Which fields are set depends on Kind.
type Op struct {
	Kind OpKind `json:"op"`
	// Ref names what the operation creates ("$lead", "$activity"), so later
	// operations can point at it before its Bitrix24 ID is known; the
	// executor maps it to a batch $result[...] reference.
	Ref string `json:"ref,omitempty"`
	// Entity is the entity type of OpCreate and OpUpdate.
	Entity settings.EntityType `json:"entity,omitempty"`
	// Target is the entity or activity the operation acts on.
	Target *ID `json:"target,omitempty"`
	// Fields are Bitrix24 fields, spelled as the REST method wants them.
	Fields Fields `json:"fields,omitempty"`
	// Links are fields that point at other entities (CONTACT_ID,
	// COMPANY_ID); the executor resolves refs and adds them to Fields.
	Links map[string]ID `json:"links,omitempty"`
	// Bindings are the entities an activity is bound to, or the entity a
	// notification links to.
	Bindings []EntityRef `json:"bindings,omitempty"`
	// DelayMinutes and Ops are the delayed step of OpSchedule.
	DelayMinutes int  `json:"delay_minutes,omitempty"`
	Ops          []Op `json:"ops,omitempty"`
	// CallID is the Bitrix24 call of OpUploadRecording on a linked call.
	CallID string `json:"call_id,omitempty"`
	// Recording is where OpUploadRecording takes the file from.
	Recording *crm.Recording `json:"recording,omitempty"`
	// Reason explains OpJournal.
	Reason string `json:"reason,omitempty"`
}

// Fields are Bitrix24 fields of an entity, an activity or a call. Values are
// strings, ints, bools or the slice and map types of this package.
type Fields map[string]any

// Multifield is one phone of an entity's PHONE field.
type Multifield struct {
	Value     string `json:"VALUE"`
	ValueType string `json:"VALUE_TYPE"`
}

// Communication is one entry of an activity's COMMUNICATIONS; Bitrix24
// binds it to the activity's owner.
type Communication struct {
	Type  string `json:"TYPE"`
	Value string `json:"VALUE"`
}

// ID is an entity or activity ID in a plan: a Bitrix24 ID that exists, or
// the ref of an entity created earlier in the same plan. It is encoded as a
// JSON number or as the ref string ("$lead").
type ID struct {
	Known int
	Ref   string
}

// Known returns the ID of an existing entity or activity.
func Known(id int) ID { return ID{Known: id} }

// RefID returns the ID of what an earlier operation named ref creates.
func RefID(ref string) ID { return ID{Ref: ref} }

// IsRef reports whether the ID is a ref to an entity of the same plan.
func (id ID) IsRef() bool { return id.Ref != "" }

func (id ID) String() string {
	if id.IsRef() {
		return id.Ref
	}
	return strconv.Itoa(id.Known)
}

// MarshalJSON encodes the ID as a number or a ref string.
func (id ID) MarshalJSON() ([]byte, error) {
	if id.IsRef() {
		return json.Marshal(id.Ref)
	}
	return json.Marshal(id.Known)
}

// UnmarshalJSON decodes a number or a ref string.
func (id *ID) UnmarshalJSON(data []byte) error {
	var ref string
	if err := json.Unmarshal(data, &ref); err == nil {
		*id = RefID(ref)
		return nil
	}
	var n int
	if err := json.Unmarshal(data, &n); err != nil {
		return err
	}
	*id = Known(n)
	return nil
}

// EntityRef is an entity in a plan: existing or created by the plan.
type EntityRef struct {
	Entity settings.EntityType `json:"entity"`
	ID     ID                  `json:"id"`
}

// Refs of the entities and the activity a plan may create.
const (
	RefLead     = "$lead"
	RefDeal     = "$deal"
	RefContact  = "$contact"
	RefCompany  = "$company"
	RefActivity = "$activity"
)

// entityRefName returns the ref a created entity of type t gets.
func entityRefName(t settings.EntityType) string { return "$" + string(t) }

// OwnerTypeID is Bitrix24's numeric CRM entity type (OWNER_TYPE_ID).
func OwnerTypeID(t settings.EntityType) int {
	switch t {
	case settings.EntityLead:
		return 1
	case settings.EntityDeal:
		return 2
	case settings.EntityContact:
		return 3
	case settings.EntityCompany:
		return 4
	}
	return 0
}

// Find returns the first operation of kind k, looking into scheduled steps.
func (p Plan) Find(k OpKind) (Op, bool) {
	return findOp(p.Ops, k)
}

func findOp(ops []Op, k OpKind) (Op, bool) {
	for _, op := range ops {
		if op.Kind == k {
			return op, true
		}
		if found, ok := findOp(op.Ops, k); ok {
			return found, true
		}
	}
	return Op{}, false
}

// sortedKeys returns the keys of f in order.
func sortedKeys(f Fields) []string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
