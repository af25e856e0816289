package b24sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// User is a portal employee.
type User struct {
	ID            int    `json:"id"`
	Name          string `json:"name"`
	LastName      string `json:"last_name"`
	Email         string `json:"email,omitempty"`
	Inner         string `json:"inner,omitempty"`
	Active        bool   `json:"active"`
	Admin         bool   `json:"admin,omitempty"`
	WorkPosition  string `json:"work_position,omitempty"`
	Mobile        string `json:"mobile,omitempty"`
	TimemanStatus string `json:"timeman_status,omitempty"`
	Departments   []int  `json:"departments,omitempty"`
}

// MultiField is one crm_multifield entry (PHONE, EMAIL, WEB, IM, LINK).
type MultiField struct {
	ID        int    `json:"id"`
	TypeID    string `json:"type_id"`
	Value     string `json:"value"`
	ValueType string `json:"value_type"`
}

// DealContact is one row of crm.deal.contact.items.
type DealContact struct {
	ContactID int  `json:"contact_id"`
	Sort      int  `json:"sort"`
	Primary   bool `json:"primary"`
}

// Entity is a lead, deal, contact or company. Fields holds the scalar
// fields as they appear on the wire (strings or nil) plus UF_CRM_* values.
type Entity struct {
	Type     string         `json:"type"`
	ID       int            `json:"id"`
	Fields   map[string]any `json:"fields"`
	Multi    []MultiField   `json:"multi,omitempty"`
	Contacts []DealContact  `json:"contacts,omitempty"`
	// seq is the entity's place in State.Entities (insertion order), for
	// lookups through commIndex to answer in the order a scan would.
	seq int
}

// Activity is a CRM activity (call record).
type Activity struct {
	ID             int             `json:"id"`
	Fields         map[string]any  `json:"fields"`
	Communications []Communication `json:"communications"`
	Bindings       []Binding       `json:"bindings"`
	Files          []int           `json:"files,omitempty"`
}

// Communication is one COMMUNICATIONS entry of an activity.
type Communication struct {
	ID           int    `json:"id"`
	Type         string `json:"type"`
	Value        string `json:"value"`
	EntityID     int    `json:"entity_id"`
	EntityTypeID int    `json:"entity_type_id"`
}

// Binding ties an activity to a CRM entity.
type Binding struct {
	OwnerTypeID int `json:"owner_type_id"`
	OwnerID     int `json:"owner_id"`
}

// Status is a row of crm.status.list (lead statuses, deal stages, sources…).
type Status struct {
	ID         int    `json:"id"`
	EntityID   string `json:"entity_id"`
	StatusID   string `json:"status_id"`
	Name       string `json:"name"`
	Sort       int    `json:"sort"`
	System     bool   `json:"system,omitempty"`
	CategoryID *int   `json:"category_id,omitempty"`
	Color      string `json:"color,omitempty"`
	Semantics  string `json:"semantics,omitempty"` // "", "S" or "F" as stored; derived for stages
}

// Category is a deal pipeline (funnel); ID 0 is the default one.
type Category struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	Sort int    `json:"sort"`
}

// UserField is a UF_CRM_* user field definition.
type UserField struct {
	ID         int    `json:"id"`
	EntityID   string `json:"entity_id"` // CRM_LEAD, CRM_DEAL, CRM_CONTACT, CRM_COMPANY
	FieldName  string `json:"field_name"`
	UserTypeID string `json:"user_type_id"`
	Label      string `json:"label,omitempty"`
	Multiple   bool   `json:"multiple,omitempty"`
	Mandatory  bool   `json:"mandatory,omitempty"`
	Sort       int    `json:"sort"`
	XMLID      string `json:"xml_id,omitempty"`
}

// Message is a stored chat message or notification (im.*).
type Message struct {
	ID       int       `json:"id"`
	Kind     string    `json:"kind"` // system, personal, message
	FromUser int       `json:"from_user"`
	ToUser   int       `json:"to_user,omitempty"`
	DialogID string    `json:"dialog_id,omitempty"`
	Text     string    `json:"text"`
	Tag      string    `json:"tag,omitempty"`
	Created  time.Time `json:"created"`
}

// Line is an external telephony line of an application.
type Line struct {
	ID            int    `json:"id"`
	AppID         string `json:"app_id"`
	Number        string `json:"number"`
	Name          string `json:"name"`
	CRMAutoCreate bool   `json:"crm_auto_create"`
}

// Call is a registered, not yet finished external call.
type Call struct {
	CallID          string    `json:"call_id"`
	ExternalCallID  string    `json:"external_call_id,omitempty"`
	AppID           string    `json:"app_id"`
	UserID          int       `json:"user_id"`
	Phone           string    `json:"phone"`
	PhoneRaw        string    `json:"phone_raw"`
	Type            int       `json:"type"`
	Line            string    `json:"line,omitempty"`
	StartDate       time.Time `json:"start_date"`
	Created         time.Time `json:"created"`
	CRMEntityType   string    `json:"crm_entity_type,omitempty"`
	CRMEntityID     int       `json:"crm_entity_id,omitempty"`
	CreatedLead     int       `json:"created_lead,omitempty"`
	CreatedEntities []Ref     `json:"created_entities,omitempty"`
	Internal        bool      `json:"internal,omitempty"`
	ShownTo         []int     `json:"shown_to,omitempty"`
	CallListID      int       `json:"call_list_id,omitempty"`
}

// Ref names a CRM entity.
type Ref struct {
	EntityType string `json:"entity_type"`
	EntityID   int    `json:"entity_id"`
}

// CallStat is a finished call's statistics row.
type CallStat struct {
	ID            int       `json:"id"`
	Call          Call      `json:"call"`
	FinishUserID  int       `json:"finish_user_id"`
	Duration      int       `json:"duration"`
	Cost          float64   `json:"cost"`
	CostCurrency  string    `json:"cost_currency"`
	StatusCode    string    `json:"status_code"`
	FailedReason  string    `json:"failed_reason"`
	Vote          int       `json:"vote"`
	ActivityID    int       `json:"activity_id,omitempty"`
	RecordFileID  int       `json:"record_file_id,omitempty"`
	Finished      time.Time `json:"finished"`
	ActivityError string    `json:"activity_error,omitempty"`
}

// File is an uploaded call record.
type File struct {
	ID     int    `json:"id"`
	CallID string `json:"call_id"`
	Name   string `json:"name"`
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"`
	Source string `json:"source"` // content, url, upload
}

// Handler is an event binding.
type Handler struct {
	ID        int    `json:"id"`
	AppID     string `json:"app_id"`
	Event     string `json:"event"`
	URL       string `json:"url,omitempty"`
	AuthType  int    `json:"auth_type"`
	Offline   bool   `json:"offline"`
	Connector string `json:"connector,omitempty"`
	UserID    int    `json:"user_id"`
}

// OfflineEvent is a row of the offline event queue.
type OfflineEvent struct {
	ID         int            `json:"id"`
	AppID      string         `json:"app_id"`
	Connector  string         `json:"connector,omitempty"`
	Timestamp  time.Time      `json:"timestamp"`
	EventName  string         `json:"event_name"`
	Data       map[string]any `json:"data"`
	Additional map[string]any `json:"additional"`
	MessageID  string         `json:"message_id"`
	ProcessID  string         `json:"process_id,omitempty"`
	Error      bool           `json:"error,omitempty"`
}

// Delivery records one online event POST attempt.
type Delivery struct {
	Time      time.Time `json:"time"`
	Event     string    `json:"event"`
	URL       string    `json:"url"`
	Status    int       `json:"status"`
	Error     string    `json:"error,omitempty"`
	HandlerID int       `json:"handler_id"`
}

// Token is an issued OAuth access/refresh token pair.
type Token struct {
	Access         string    `json:"access"`
	Refresh        string    `json:"refresh"`
	ClientID       string    `json:"client_id"`
	UserID         int       `json:"user_id"`
	Expires        time.Time `json:"expires"`
	RefreshExpires time.Time `json:"refresh_expires"`
	AccessRevoked  bool      `json:"access_revoked,omitempty"`
	RefreshUsed    bool      `json:"refresh_used,omitempty"`
}

// AuthCode is an OAuth authorization code.
type AuthCode struct {
	Code     string    `json:"code"`
	ClientID string    `json:"client_id"`
	UserID   int       `json:"user_id"`
	Expires  time.Time `json:"expires"`
}

// State is the whole persisted portal.
type State struct {
	Mode             int             `json:"mode"` // 1 classic, 2 simple
	MemberID         string          `json:"member_id"`
	ApplicationToken string          `json:"application_token"`
	Users            []*User         `json:"users"`
	Categories       []Category      `json:"categories"`
	Statuses         []Status        `json:"statuses"`
	UserFields       []UserField     `json:"user_fields"`
	Entities         []*Entity       `json:"entities"`
	Activities       []*Activity     `json:"activities"`
	Messages         []Message       `json:"messages"`
	Lines            []Line          `json:"lines"`
	Calls            []*Call         `json:"calls"`
	Stats            []*CallStat     `json:"stats"`
	Files            []File          `json:"files"`
	Handlers         []Handler       `json:"handlers"`
	Offline          []*OfflineEvent `json:"offline"`
	Deliveries       []Delivery      `json:"deliveries"`
	Tokens           []*Token        `json:"tokens"`
	Codes            []AuthCode      `json:"codes"`
	Seq              map[string]int  `json:"seq"`
	Extra            map[string]any  `json:"extra,omitempty"`
	index            map[string]*Entity
	phoneKeys        map[string]string // memo of DuplicatePhoneKey
	commIndex        map[string][]*Entity
	nextSeq          int
}

func (st *State) nextID(kind string) int {
	if st.Seq == nil {
		st.Seq = map[string]int{}
	}
	st.Seq[kind]++
	return st.Seq[kind]
}

func entityKey(typ string, id int) string { return fmt.Sprintf("%s:%d", typ, id) }

func (st *State) reindex() {
	st.index = make(map[string]*Entity, len(st.Entities))
	st.commIndex = map[string][]*Entity{}
	for i, e := range st.Entities {
		st.index[entityKey(e.Type, e.ID)] = e
		e.seq = i
		st.indexComms(e)
	}
	st.nextSeq = len(st.Entities)
}

func (st *State) entity(typ string, id int) *Entity {
	if st.index == nil {
		st.reindex()
	}
	return st.index[entityKey(typ, id)]
}

func (st *State) addEntity(e *Entity) {
	if st.index == nil {
		st.reindex()
	}
	st.Entities = append(st.Entities, e)
	e.seq = st.nextSeq
	st.nextSeq++
	st.index[entityKey(e.Type, e.ID)] = e
	st.indexComms(e)
}

func (st *State) removeEntity(typ string, id int) bool {
	for i, e := range st.Entities {
		if e.Type == typ && e.ID == id {
			st.Entities = append(st.Entities[:i:i], st.Entities[i+1:]...)
			delete(st.index, entityKey(typ, id))
			return true
		}
	}
	return false
}

func (st *State) user(id int) *User {
	for _, u := range st.Users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

func (st *State) activity(id int) *Activity {
	for _, a := range st.Activities {
		if a.ID == id {
			return a
		}
	}
	return nil
}

// clone deep-copies the state through JSON.
func (st *State) clone() (*State, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("clone state: %w", err)
	}
	out := &State{}
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("clone state: %w", err)
	}
	out.reindex()
	return out, nil
}

// Save writes the whole portal state to path atomically.
func (s *Server) Save(path string) error {
	s.mu.Lock()
	b, err := json.MarshalIndent(s.st, "", " ")
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".b24sim-state-*")
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(b); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("save state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

// Load replaces the portal state with the one stored at path.
func (s *Server) Load(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("load state: %w", err)
	}
	st := &State{}
	if err := json.Unmarshal(b, st); err != nil {
		return fmt.Errorf("load state %s: %w", path, err)
	}
	st.reindex()
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
	return nil
}

func fileExists(path string) (bool, error) {
	_, err := os.Stat(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, fmt.Errorf("stat %s: %w", path, err)
}
