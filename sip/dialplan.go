package sip

import (
	"fmt"
	"strings"
)

// DialPlan says how dialled telephone numbers are rewritten before they are
// put into the Request-URI.
type DialPlan int

// Dial plans. The Russian plans accept +7, 7 and 8 prefixes, 10-digit
// national numbers and the 810 international prefix; numbers of up to six
// digits are internal extensions and are left alone.
const (
	// DialPlanNone only strips spaces and punctuation.
	DialPlanNone DialPlan = iota
	// DialPlanRussiaE164 writes Russian numbers as +7XXXXXXXXXX.
	DialPlanRussiaE164
	// DialPlanRussia8 writes Russian numbers as 8XXXXXXXXXX (trunk prefix).
	DialPlanRussia8
	// DialPlanRussia7 writes Russian numbers as 7XXXXXXXXXX (no plus).
	DialPlanRussia7
)

// String returns the plan's name.
func (p DialPlan) String() string {
	switch p {
	case DialPlanNone:
		return "none"
	case DialPlanRussiaE164:
		return "ru-e164"
	case DialPlanRussia8:
		return "ru-8"
	case DialPlanRussia7:
		return "ru-7"
	default:
		return fmt.Sprintf("DialPlan(%d)", int(p))
	}
}

// NormalizeNumber rewrites a typed telephone number by the plan. It strips
// spaces, dashes, dots and parentheses, and fails on anything else that is
// not a digit, '*', '#' or a leading '+'.
func NormalizeNumber(number string, plan DialPlan) (string, error) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(number) {
		switch {
		case r >= '0' && r <= '9', r == '*', r == '#':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '\u00a0':
		default:
			return "", fmt.Errorf("number %q: unexpected character %q", number, r)
		}
	}
	n := b.String()
	if n == "" || n == "+" {
		return "", fmt.Errorf("number %q is empty", number)
	}
	if plan == DialPlanNone || strings.ContainsAny(n, "*#") {
		return n, nil
	}

	// national is the 10-digit Russian national significant number, if n is one.
	var national string
	switch {
	case strings.HasPrefix(n, "+"):
		if strings.HasPrefix(n, "+7") && len(n) == 12 {
			national = n[2:]
		} else {
			return n, nil // another country: keep E.164 as is
		}
	case strings.HasPrefix(n, "810") && len(n) > 11:
		return "+" + n[3:], nil // Russian international prefix
	case len(n) == 11 && (n[0] == '8' || n[0] == '7'):
		national = n[1:]
	case len(n) == 10:
		national = n
	default:
		return n, nil // extensions and anything we do not recognise
	}

	switch plan {
	case DialPlanRussia8:
		return "8" + national, nil
	case DialPlanRussia7:
		return "7" + national, nil
	default:
		return "+7" + national, nil
	}
}
