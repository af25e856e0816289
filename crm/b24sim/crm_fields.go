package b24sim

import (
	"strings"
)

// Owner type ids (crm.enum.ownertype).
const (
	ownerLead    = 1
	ownerDeal    = 2
	ownerContact = 3
	ownerCompany = 4
)

var ownerTypeNames = map[int]string{ownerLead: "LEAD", ownerDeal: "DEAL", ownerContact: "CONTACT", ownerCompany: "COMPANY"}

func ownerTypeID(name string) int {
	for id, n := range ownerTypeNames {
		if n == strings.ToUpper(name) {
			return id
		}
	}
	return 0
}

// fieldDef describes one field of crm.*.fields.
type fieldDef struct {
	name       string
	typ        string
	ro         bool
	imm        bool
	req        bool
	multi      bool
	deprecated bool
	statusType string
	title      string
}

// fd parses a compact definition: "NAME type flags Title words", where flags
// is a comma list of ro, imm, req, multi, dep, st=STATUS_TYPE or "-".
func fd(spec string) fieldDef {
	parts := strings.SplitN(spec, " ", 4)
	d := fieldDef{name: parts[0], typ: parts[1]}
	if len(parts) > 2 {
		for _, f := range strings.Split(parts[2], ",") {
			switch {
			case f == "ro":
				d.ro = true
			case f == "imm":
				d.imm = true
			case f == "req":
				d.req = true
			case f == "multi":
				d.multi = true
			case f == "dep":
				d.deprecated = true
			case strings.HasPrefix(f, "st="):
				d.statusType = f[3:]
			}
		}
	}
	if len(parts) > 3 {
		d.title = parts[3]
	} else {
		d.title = d.name
	}
	return d
}

func defs(specs ...string) []fieldDef {
	out := make([]fieldDef, 0, len(specs))
	for _, s := range specs {
		out = append(out, fd(s))
	}
	return out
}

var multiFieldTypes = []string{"PHONE", "EMAIL", "WEB", "IM", "LINK"}

var multiDefs = defs(
	"PHONE crm_multifield multi Phone",
	"EMAIL crm_multifield multi E-mail",
	"WEB crm_multifield multi Website",
	"IM crm_multifield multi Messenger",
	"LINK crm_multifield multi Link",
)

var utmDefs = defs(
	"UTM_SOURCE string - Ad system", "UTM_MEDIUM string - Traffic type", "UTM_CAMPAIGN string - Ad campaign UTM",
	"UTM_CONTENT string - Campaign contents", "UTM_TERM string - Campaign search term",
)

var entityDefs = map[string][]fieldDef{
	"LEAD": join(defs(
		"ID integer ro ID", "TITLE string - Lead name", "HONORIFIC crm_status st=HONORIFIC Salutation",
		"NAME string - First name", "SECOND_NAME string - Second name", "LAST_NAME string - Last name",
		"BIRTHDATE date - Date of birth", "COMPANY_TITLE string - Company name",
		"SOURCE_ID crm_status st=SOURCE Source", "SOURCE_DESCRIPTION string - Source information",
		"STATUS_ID crm_status st=STATUS Stage", "STATUS_DESCRIPTION string - Stage details",
		"STATUS_SEMANTIC_ID string ro Status details", "POST string - Position", "ADDRESS string - Address",
		"CURRENCY_ID crm_currency - Currency", "OPPORTUNITY double - Total", "IS_MANUAL_OPPORTUNITY char - IsManualOpportunity",
		"OPENED char - Available to everyone", "COMMENTS string - Comment",
		"HAS_PHONE char ro Has phone", "HAS_EMAIL char ro Has email", "HAS_IMOL char ro Has Open Channel",
		"ASSIGNED_BY_ID user - Responsible person", "CREATED_BY_ID user ro Created by", "MODIFY_BY_ID user ro Modified by",
		"DATE_CREATE datetime ro Created on", "DATE_MODIFY datetime ro Modified on",
		"COMPANY_ID crm_company - Company", "CONTACT_ID crm_contact dep Contact", "CONTACT_IDS crm_contact multi Contacts",
		"IS_RETURN_CUSTOMER char ro Repeat lead", "DATE_CLOSED datetime ro Completed on",
		"ORIGINATOR_ID string - External source", "ORIGIN_ID string - Item ID in data source",
		"MOVED_BY_ID user ro MovedBy", "MOVED_TIME datetime ro MovedTime",
		"LAST_ACTIVITY_BY user ro LastActivityBy", "LAST_ACTIVITY_TIME datetime ro LastActivityTime",
	), utmDefs, multiDefs),
	"DEAL": join(defs(
		"ID integer ro ID", "TITLE string - Name", "TYPE_ID crm_status st=DEAL_TYPE Type",
		"CATEGORY_ID crm_category imm Pipeline", "STAGE_ID crm_status st=DEAL_STAGE Deal stage",
		"STAGE_SEMANTIC_ID string ro Stage group", "IS_NEW char ro New deal", "IS_RECURRING char - Recurring deal",
		"IS_RETURN_CUSTOMER char ro Repeat deal", "IS_REPEATED_APPROACH char ro Repeat inquiry",
		"PROBABILITY integer - Probability", "CURRENCY_ID crm_currency - Currency", "OPPORTUNITY double - Amount",
		"IS_MANUAL_OPPORTUNITY char - IsManualOpportunity", "TAX_VALUE double - Tax rate",
		"COMPANY_ID crm_company - Company", "CONTACT_ID crm_contact dep Contact", "CONTACT_IDS crm_contact multi Contacts",
		"QUOTE_ID crm_quote ro Quote", "BEGINDATE date - Start date", "CLOSEDATE date - End date",
		"OPENED char - Available to everyone", "CLOSED char - Closed", "COMMENTS string - Comment",
		"ASSIGNED_BY_ID user - Responsible person", "CREATED_BY_ID user ro Created by", "MODIFY_BY_ID user ro Modified by",
		"DATE_CREATE datetime ro Created on", "DATE_MODIFY datetime ro Modified on",
		"SOURCE_ID crm_status st=SOURCE Source", "SOURCE_DESCRIPTION string - Source information",
		"LEAD_ID crm_lead ro Lead", "ADDITIONAL_INFO string - Additional information", "LOCATION_ID location - Location",
		"ORIGINATOR_ID string - External source", "ORIGIN_ID string - Item ID in data source",
		"MOVED_BY_ID user ro MovedBy", "MOVED_TIME datetime ro MovedTime",
		"LAST_ACTIVITY_BY user ro LastActivityBy", "LAST_ACTIVITY_TIME datetime ro LastActivityTime",
	), utmDefs),
	"CONTACT": join(defs(
		"ID integer ro ID", "HONORIFIC crm_status st=HONORIFIC Salutation", "NAME string - First name",
		"SECOND_NAME string - Second name", "LAST_NAME string - Last name", "PHOTO file - Photo",
		"BIRTHDATE date - Date of birth", "TYPE_ID crm_status st=CONTACT_TYPE Contact type",
		"SOURCE_ID crm_status st=SOURCE Source", "SOURCE_DESCRIPTION string - Source information",
		"POST string - Position", "ADDRESS string - Address", "COMMENTS string - Comment",
		"OPENED char - Available to everyone", "EXPORT char - Included in export",
		"HAS_PHONE char ro Has phone", "HAS_EMAIL char ro Has email", "HAS_IMOL char ro Has Open Channel",
		"ASSIGNED_BY_ID user - Responsible person", "CREATED_BY_ID user ro Created by", "MODIFY_BY_ID user ro Modified by",
		"DATE_CREATE datetime ro Created on", "DATE_MODIFY datetime ro Modified on",
		"COMPANY_ID crm_company dep Company", "COMPANY_IDS crm_company multi Companies", "LEAD_ID crm_lead ro Lead",
		"ORIGINATOR_ID string - External source", "ORIGIN_ID string - Item ID in data source",
		"ORIGIN_VERSION string - Original version",
		"LAST_ACTIVITY_BY user ro LastActivityBy", "LAST_ACTIVITY_TIME datetime ro LastActivityTime",
	), utmDefs, multiDefs),
	"COMPANY": join(defs(
		"ID integer ro ID", "TITLE string req Company name", "COMPANY_TYPE crm_status st=COMPANY_TYPE Company type",
		"LOGO file - Logo", "ADDRESS string - Address", "BANKING_DETAILS string - Payment details",
		"INDUSTRY crm_status st=INDUSTRY Industry", "EMPLOYEES crm_status st=EMPLOYEES Employees",
		"CURRENCY_ID crm_currency - Currency", "REVENUE double - Annual revenue",
		"OPENED char - Available to everyone", "COMMENTS string - Comment",
		"HAS_PHONE char ro Has phone", "HAS_EMAIL char ro Has email", "HAS_IMOL char ro Has Open Channel",
		"IS_MY_COMPANY char - My company",
		"ASSIGNED_BY_ID user - Responsible person", "CREATED_BY_ID user ro Created by", "MODIFY_BY_ID user ro Modified by",
		"DATE_CREATE datetime ro Created on", "DATE_MODIFY datetime ro Modified on",
		"CONTACT_ID crm_contact multi Contacts", "LEAD_ID crm_lead ro Lead",
		"ORIGINATOR_ID string - External source", "ORIGIN_ID string - Item ID in data source",
		"ORIGIN_VERSION string - Original version",
		"LAST_ACTIVITY_BY user ro LastActivityBy", "LAST_ACTIVITY_TIME datetime ro LastActivityTime",
	), utmDefs, multiDefs),
}

func join(parts ...[]fieldDef) []fieldDef {
	var out []fieldDef
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func entityDef(typ, field string) (fieldDef, bool) {
	d, ok := entityDefIndex[typ][field]
	return d, ok
}

// fieldInfo renders a definition the way CCrmRestHelper::prepareFieldInfos does.
func fieldInfo(d fieldDef) obj {
	o := obj{
		"type": d.typ, "isRequired": d.req, "isReadOnly": d.ro, "isImmutable": d.imm,
		"isMultiple": d.multi, "isDynamic": false, "title": d.title,
	}
	if d.deprecated {
		o["isDeprecated"] = true
	}
	if d.statusType != "" {
		o["statusType"] = d.statusType
	}
	if d.typ == "crm_company" {
		o["settings"] = obj{"parentEntityTypeId": ownerCompany}
	}
	return o
}

func ufInfo(u UserField) obj {
	label := u.Label
	if label == "" {
		label = u.FieldName
	}
	return obj{
		"type": u.UserTypeID, "isRequired": u.Mandatory, "isReadOnly": false, "isImmutable": false,
		"isMultiple": u.Multiple, "isDynamic": true, "title": u.FieldName,
		"listLabel": label, "formLabel": label, "filterLabel": label,
		"settings": obj{},
	}
}

var ufEntityIDs = map[string]string{"LEAD": "CRM_LEAD", "DEAL": "CRM_DEAL", "CONTACT": "CRM_CONTACT", "COMPANY": "CRM_COMPANY"}

func (st *State) userFields(typ string) []UserField {
	var out []UserField
	for _, u := range st.UserFields {
		if u.EntityID == ufEntityIDs[typ] {
			out = append(out, u)
		}
	}
	return out
}
