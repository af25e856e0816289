package settings

import (
	"fmt"
	"slices"
	"strings"
)

// Default title templates (T2).
const (
	DefaultIncomingTitle = "Входящий звонок на номер {{contact_phone_number}} из приложения {{app_name}}"
	DefaultOutgoingTitle = "Исходящий звонок на номер {{contact_phone_number}} из приложения {{app_name}}"
)

// DefaultTitle returns the T2 default template for a direction.
func DefaultTitle(d Direction) string {
	if d == DirectionOut {
		return DefaultOutgoingTitle
	}
	return DefaultIncomingTitle
}

// Variable is one entry of the template variable catalogue (T1): what the
// "+" button offers.
type Variable struct {
	Name string
	// Description is shown next to the name, in Russian and English.
	DescriptionRU, DescriptionEN string
	// Sample is the value used by the preview.
	Sample string
}

// Variables is the template variable catalogue.
var Variables = []Variable{
	{"contact_phone_number", "Номер клиента", "Client's number", "+7 916 123-45-67"},
	{"virtual_number", "Виртуальный номер", "Virtual number", "+7 495 123-45-67"},
	{"app_name", "Название приложения", "Application name", "Omniphone"},
	{"direction", "Направление звонка", "Call direction", "входящий"},
	{"outcome", "Результат звонка", "Call outcome", "принят"},
	{"employee_name", "Сотрудник", "Employee", "Ирина Петрова"},
	{"employee_extension", "Внутренний номер сотрудника", "Employee extension", "101"},
	{"call_date", "Дата звонка", "Call date", "25.11.2026"},
	{"call_time", "Время звонка", "Call time", "10:00"},
	{"duration", "Длительность разговора", "Talk duration", "3:01"},
	{"scenario", "Сценарий ВАТС", "PBX scenario", "Основной"},
	{"last_operation", "Последняя операция сценария", "Last scenario operation", "Меню"},
	{"group", "Выбранная посетителем группа", "Visitor-selected group", "Продажи"},
	{"campaign", "Рекламная кампания", "Ad campaign", "Контекст"},
	{"first_campaign", "Первая рекламная кампания", "First ad campaign", "Поиск"},
	{"site", "Сайт", "Site", "example.ru"},
	{"source", "Источник", "Source", "yandex"},
}

// LookupVariable returns the catalogue entry for name.
func LookupVariable(name string) (Variable, bool) {
	i := slices.IndexFunc(Variables, func(v Variable) bool { return v.Name == name })
	if i < 0 {
		return Variable{}, false
	}
	return Variables[i], true
}

// TemplateError says why a template does not parse; Format and Args are
// kept apart so a UI can translate the sentence.
type TemplateError struct {
	Format string
	Args   []any
}

func (e *TemplateError) Error() string { return fmt.Sprintf(e.Format, e.Args...) }

// Template is a parsed title template: literal text and variables.
type Template struct {
	parts []templatePart
}

type templatePart struct {
	text     string
	variable bool
}

// ParseTemplate parses a title template. Variables are written {{name}}
// (spaces inside the braces are allowed); an unknown variable or an
// unclosed "{{" is an error (T2).
func ParseTemplate(s string) (Template, error) {
	var t Template
	rest := s
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			t.appendText(rest)
			return t, nil
		}
		t.appendText(rest[:i])
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return Template{}, &TemplateError{Format: "%q is not closed with %s", Args: []any{rest[i:], "}}"}}
		}
		name := strings.TrimSpace(rest[i+2 : i+j])
		if _, ok := LookupVariable(name); !ok {
			return Template{}, &TemplateError{Format: "unknown variable %s; known: %s", Args: []any{"{{" + name + "}}", variableNames()}}
		}
		t.parts = append(t.parts, templatePart{text: name, variable: true})
		rest = rest[i+j+2:]
	}
}

func (t *Template) appendText(s string) {
	if s != "" {
		t.parts = append(t.parts, templatePart{text: s})
	}
}

// Render fills the template's variables from vars; a variable missing from
// vars renders as empty, and runs of spaces left by it are collapsed.
func (t Template) Render(vars map[string]string) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.variable {
			b.WriteString(vars[p.text])
		} else {
			b.WriteString(p.text)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// Preview renders the template with the catalogue's sample values (T1).
func (t Template) Preview() string {
	vars := make(map[string]string, len(Variables))
	for _, v := range Variables {
		vars[v.Name] = v.Sample
	}
	return t.Render(vars)
}

func variableNames() string {
	names := make([]string, len(Variables))
	for i, v := range Variables {
		names[i] = v.Name
	}
	return strings.Join(names, ", ")
}
