// Package rules is Omniphone's pure decision engine: given the settings, a
// finished call (crm.Call, SPEC §11) and a Snapshot of what Bitrix24 holds
// for the client, Decide returns the Plan the sync engine carries out and
// the Trace that says, rule by rule, why (SPEC D1). It does no I/O, reads no
// clock (times come from the call and the snapshot), uses no randomness and
// starts no goroutines, so every SPEC example is a table test.
//
// # Model
//
// Decide acts on settings.Settings.Effective(): CP1 clears the other
// call-processing options, C1/CB1/CP7 off clear their data, RC1 off clears
// RC2. It then walks the rules in this order, each adding steps to the
// trace: CP1 (another telephony: update only entities modified during the
// call, then stop); CP2 (routing happens before calls, see Route); a call
// linked to a Bitrix24 call (C1/CB1: finish it, then stop); CP7/CP8 (the
// call filter); RS1–RS17 (who is responsible); EF2 (existing entity's extra
// fields); CP3/CP4 with CP5, CP6, T1–T2, F1–F2, EF1, RC1–RC2 (entities and
// the call activity); OL1 (chat message). Every rule ID in Rules gets at
// least one step; D3 always says why no entity was created.
//
// A Plan is an ordered list of operations with a stable JSON form. Fields
// are exact Bitrix24 REST fields. Operations point at entities created
// earlier in the same plan by refs ("$lead", "$deal", "$contact",
// "$activity") in Target, Links and Bindings — never inside Fields — so the
// executor can map them to batch $result[...] references. Created entities
// and activities carry ORIGINATOR_ID "omniphone" and ORIGIN_ID = the call
// id, so a retried plan can find what a crashed attempt created (D2).
//
// ORIGIN_ID of the call activity: the plan's value is the call id, and the
// executor (crm/sync) keeps it when it adds the activity itself with
// crm.activity.add. Usually, though, Bitrix24 writes the activity in
// telephony.externalCall.finish and gives it ORIGIN_ID "VI_" + its
// telephony CALL_ID, which Bitrix24's call provider reads to show the
// call card, the recording player and the statistics row; the executor
// leaves that value alone and sets the rest of the plan's fields. The call
// id is then the telephony call's EXTERNAL_CALL_ID, the activity still has
// ORIGINATOR_ID "omniphone", and the executor's crash check finds it by
// ORIGINATOR_ID, START_TIME and phone. A trace step "ORIGIN_ID <call id>"
// names the plan's field, not necessarily the stored one.
// OpSchedule nests the operations CP5 delays; refs inside it point at
// entities of the outer plan, whose IDs the executor keeps with the job.
//
// # Choices where SPEC leaves room
//
//   - Responsibles (§7). Entities the engine creates get: the responsible of
//     an existing entity by priority Contact > Company > Lead/Deal (RS8,
//     RS11, RS17); else, outgoing, the calling employee or the outgoing
//     default (RS4); incoming, the first matching rule (RS2, RS7), else who
//     answered (RS6), else the incoming default (RS5). The call activity
//     goes to who answered an incoming call (RS3, RS6, RS7, RS10) or made an
//     outgoing one (RS4) when that extension is an active employee, else to
//     the entity responsible (RS5, RS9). So RS8's "the employee who was
//     called" means who answered (or called); it ranks above rules for the
//     activity, and below them for the entity, as RS7 says explicitly.
//   - The "missed / answered" splits of RS12–RS16 are about the activity;
//     RS10's "entity … on who answered" applies to new entities only when no
//     existing entity has a usable responsible. Existing entities are never
//     reassigned; a new entity on a repeat call keeps the client's
//     responsible (RS11, RS17 say so).
//   - A responsible who is inactive in the snapshot is passed over; one the
//     snapshot does not list is trusted. Employees are users whose
//     UF_PHONE_INNER is the extension and who are active.
//   - Among several entities of one type: contacts and companies oldest ID
//     first (later ones are usually duplicates); leads and deals open first,
//     then deals before leads, then latest DATE_MODIFY, then oldest ID.
//   - CP3/CP4: a lead or deal is final when CLOSED or its semantics is
//     success/failure. Classic CRM reuses the open deal and/or lead, else
//     creates a lead linked (CONTACT_ID, COMPANY_ID) to the client's contact
//     and company. Simple CRM reuses an open deal, else creates a deal, plus
//     a contact only when the client has neither a contact nor a company;
//     open leads are not reused in simple CRM (RS17). A company is never
//     created: the call record names no company. The activity is bound to
//     the used lead/deal (the owner, first), contact and company. CP3/CP4 off
//     means no entity and no activity for that direction. Busy and failed
//     count as missed. An unanswered outgoing activity is not completed
//     ("the same for outgoing calls"). An answered call (either direction)
//     completes earlier open call activities bound to the same existing
//     entities.
//   - CP5: with N > 0 and entities created, they are created with the
//     default responsible; one scheduled step after N minutes sets the real
//     responsible (when it differs) and adds the activity and its recording.
//     When nothing is created, nothing waits. Completing earlier activities
//     and the OL1 message happen at once.
//   - CP6 writes SOURCE_DESCRIPTION only on entities the engine creates
//     (lead, deal, contact; companies have no such field). The call record's
//     virtual_number is taken as the first virtual number of a transferred
//     call.
//   - CP1: "modified during the call" is DATE_MODIFY within started_at …
//     ended_at, inclusive. Only fields whose value changes are sent; an empty
//     call value never overwrites. The journal gets the call when nothing
//     changes. RC1 and OL1 are off under CP1 too (no activity of ours).
//   - A call with bitrix24_call_id (click-to-call C4, or a callback the app
//     registered) is finished with telephony.externalCall.finish when C1 or
//     CB1 is on; Bitrix24 then writes the activity, so no entity or activity
//     of ours is created, CP7 is not applied (the call must not be left
//     hanging) and RC1 attaches the recording to that call. With both off
//     the link is ignored and the call is processed like any other.
//   - Filters (§9): an empty group is ignored; text compares ignoring case
//     and surrounding spaces; phone numbers compare by digits (8… read as
//     7…); the employee value of an incoming call is every extension that
//     rang or talked, of an outgoing call the caller (rung[0]); a filter
//     value matches the extension or the Bitrix24 user ID mapped to it. On
//     an incoming call that was not answered, a condition on employee, group
//     or last operation never matches, in every filter (CP8).
//   - RC2 looks at the CP7 filter of the call's direction. A condition on
//     employee or last operation with "exclude" wins over one with
//     "include". RC2 off with an "include" condition means no activity and
//     no recording, even with RC1 on; RC2 off with only "exclude" leaves it
//     to RC1.
//   - Titles (T1, T2): contacts have no TITLE, so their title goes to NAME.
//     The T2 default is used for every entity type without a template. A
//     template that does not parse (settings that skipped Validate) is
//     passed over, never a crash.
//   - F1/F2: the stage setting is the lead STATUS_ID in classic CRM and the
//     deal CATEGORY_ID/STAGE_ID in simple CRM. A stage the snapshot shows
//     missing is passed over with a trace step; an empty snapshot list
//     trusts the settings.
//   - EF1/EF2: extra fields are set on every entity the engine creates;
//     "always update" also writes them to the client's first existing entity
//     by priority Contact > Company > Lead/Deal. The employee parameter is
//     the extension of who answered or called.
//   - OL1: incoming calls only, to the activity's responsible, linked to the
//     activity's owner (or the client's first entity). The executor appends
//     the entity link to MESSAGE once the ID is known.
//   - D3: no entity created because of the filter, CP3/CP4 off, a missing
//     default responsible (then the call goes to the journal only), reuse of
//     open entities, CP1, or a linked Bitrix24 call — the step names which.
package rules
