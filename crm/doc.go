// Package crm holds what every part of the Bitrix24 integration shares: the
// call record that the phone hands to the sync engine (SPEC §11). Its
// subpackages talk to Bitrix24 (b24), decide what a call means for the CRM
// (rules), carry it out durably (sync), look callers up (lookup), take
// Bitrix24's events (events) and simulate a portal for tests (b24sim).
package crm
