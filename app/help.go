package app

import "fyne.io/fyne/v2/lang"

// helpText is the built-in reference opened by "?" (SPEC P4): the rules of
// the integration in the user's language.
func helpText() string {
	return lang.X("help.integration", `## Portals
Add the portal with its https:// address and mark one as **main**. Connect it with an incoming webhook URL or an OAuth application; passwords and tokens are kept in the system keyring, never in the settings file. **Sync employees** loads the employees and their inner numbers; **Refresh pipelines** loads pipelines and stages.

## Call processing
- **Use other telephony (CP1)**: another telephony has its own CRM integration. Nothing is created; only the client's entities changed during the call get the extra fields, and "first communication ID" when it is empty. All other options are off.
- **Forward to the personal manager (CP2)**: the PBX asks who the client's manager is.
- **Create a lead/deal (CP3, CP4)**: classic CRM — a lead; simple CRM — a deal and a contact. A repeat call creates new ones only when all earlier ones are closed. Missed calls add an open activity, answered calls a completed one, and an answered call completes the earlier open ones.
- **Update the responsible after N minutes (CP5)**: entities are created on the default responsible, then the real one is set.
- **Virtual number as the source (CP6)** fills "Source description".
- **Filter calls (CP7)**: groups joined by OR, conditions by AND; "include" matches the listed values, "exclude" everything else. Filters on employee, visitor-selected group or last scenario operation never match a missed call (CP8).

## Click-to-call and callback
Click-to-call needs its number (C2); "override caller ID" shows the client only that number (C3). Callback rings the mapped employee first, or calls the configured number.

## Recordings and open lines
Recordings are attached after the call (RC1). With a filter on employee or last scenario operation, RC2 decides whether the activity and the recording are created. Open lines post a message about each incoming call to the responsible's chat (OL1).

## Templates, pipelines, responsibles, extra fields
Titles come from the first matching template, else the default (T1, T2); "+" inserts a variable, the eye shows a preview. Pipeline rules send matching calls to their pipeline (F2). Responsibles: an existing entity's responsible first, then the employee called, then a matching rule, then the default (RS8); contact over company over lead/deal. Extra fields copy call parameters into text user fields (EF1); "always update" also updates existing entities (EF2).

## When something goes wrong
No entity created: check the filters and the default responsibles (D3); every call's decision trace is in History. Duplicates: switch off Bitrix24's own "create a lead for unknown calls" (D2). Empty lists: press Sync employees / Refresh pipelines (P5).`)
}
