package app

import (
	"context"
	"fmt"
	"strconv"
)

// Directory gives the settings editor the portal's own lists, which
// "Sync employees" and "Refresh" reload (SPEC P5).
type Directory interface {
	// Employees are the portal's active users with their inner numbers.
	Employees(ctx context.Context) ([]Employee, error)
	// Pipelines are the deal pipelines with their stages, and the lead
	// statuses as pipeline -1.
	Pipelines(ctx context.Context) ([]Pipeline, error)
	// TextFields are the CRM user fields of type string (EF1, CP1).
	TextFields(ctx context.Context) ([]string, error)
}

// Employee is a portal user.
type Employee struct {
	ID        int
	Name      string
	Extension string
}

func (e Employee) label() string {
	if e.Extension != "" {
		return fmt.Sprintf("%s (%s)", e.Name, e.Extension)
	}
	return e.Name
}

// Pipeline is a deal category (ID ≥ 0) or the lead statuses (ID -1).
type Pipeline struct {
	ID     int
	Name   string
	Stages []StageOption
}

// LeadPipelineID marks the lead statuses among Pipelines.
const LeadPipelineID = -1

// StageOption is one stage of a pipeline.
type StageOption struct {
	ID   string
	Name string
}

// directoryLists is what the editor last loaded.
type directoryLists struct {
	employees  []Employee
	pipelines  []Pipeline
	textFields []string
}

func (d directoryLists) employeeOptions() []option {
	out := make([]option, len(d.employees))
	for i, e := range d.employees {
		out[i] = option{strconv.Itoa(e.ID), e.label()}
	}
	return out
}
