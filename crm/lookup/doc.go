// Package lookup answers "who is calling?" for the incoming-call card
// (SPEC §0, issue 8): a phone number becomes the CRM entities that own it,
// each with its responsible manager and whether that manager is at work,
// then the open deals and the last call.
//
// Ringing never waits for it: Lookup answers from a bounded cache with a
// TTL at once, or with one Bitrix24 request
// (telephony.externalCall.searchCrmEntities); Details adds deals and the
// last call with one batch request. The engine's own writes Invalidate a
// number so the card never shows what was true before the last call.
package lookup
