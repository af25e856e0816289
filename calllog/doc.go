// Package calllog turns finished calls into SPEC §11 call records and hands
// them to the sync engine. The window (package app) and the headless phone
// (cmd/omniphone --headless) build records with the same [Record]; the
// headless phone also uses [Log] to submit them and [Dialer] to place
// Bitrix24's click-to-call requests with the call's CALL_ID link.
//
// The package imports no UI toolkit.
package calllog
