package app

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"fyne.io/fyne/v2/lang"

	"github.com/omniphone/omniphone/crm/b24"
)

// bitrixDirectory loads the editor's lists from a portal.
type bitrixDirectory struct {
	client *b24.Client
}

// NewBitrixDirectory returns a Directory over a portal's REST API.
func NewBitrixDirectory(c *b24.Client) Directory { return bitrixDirectory{client: c} }

func (d bitrixDirectory) Employees(ctx context.Context) ([]Employee, error) {
	users, err := d.client.Users(ctx, b24.Params{"ACTIVE": true})
	if err != nil {
		return nil, fmt.Errorf("employees: %w", err)
	}
	out := make([]Employee, 0, len(users))
	for _, u := range users {
		out = append(out, Employee{ID: int(u.ID), Name: u.FullName(), Extension: string(u.PhoneInner)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Pipelines lists the lead statuses (classic CRM only) and every deal
// pipeline with its stages.
func (d bitrixDirectory) Pipelines(ctx context.Context) ([]Pipeline, error) {
	mode, err := d.client.CRMMode(ctx)
	if err != nil {
		return nil, fmt.Errorf("pipelines: %w", err)
	}
	var out []Pipeline
	if mode == b24.ModeClassic {
		leads, err := d.client.Statuses(ctx, "STATUS")
		if err != nil {
			return nil, fmt.Errorf("lead statuses: %w", err)
		}
		out = append(out, Pipeline{ID: LeadPipelineID, Name: lang.L("Leads"), Stages: stageOptions(leads)})
	}
	cats, err := d.client.DealCategories(ctx)
	if err != nil {
		return nil, fmt.Errorf("deal pipelines: %w", err)
	}
	for _, c := range cats {
		entity := "DEAL_STAGE"
		if c.ID > 0 {
			entity += "_" + strconv.Itoa(int(c.ID))
		}
		stages, err := d.client.Statuses(ctx, entity)
		if err != nil {
			return nil, fmt.Errorf("stages of %s: %w", c.Name, err)
		}
		out = append(out, Pipeline{ID: int(c.ID), Name: string(c.Name), Stages: stageOptions(stages)})
	}
	return out, nil
}

func stageOptions(ss []b24.Stage) []StageOption {
	out := make([]StageOption, len(ss))
	for i, s := range ss {
		out[i] = StageOption{ID: string(s.StatusID), Name: string(s.Name)}
	}
	return out
}

// TextFields lists the string user fields of leads, deals, contacts and
// companies (EF1 offers only text fields).
func (d bitrixDirectory) TextFields(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	for _, t := range []b24.EntityType{b24.Lead, b24.Deal, b24.Contact, b24.Company} {
		fields, err := d.client.UserFields(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("%s user fields: %w", t, err)
		}
		for _, f := range fields {
			if strings.EqualFold(string(f.UserTypeID), "string") && !bool(f.Multiple) {
				seen[string(f.FieldName)] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for f := range seen {
		out = append(out, f)
	}
	sort.Strings(out)
	return out, nil
}
