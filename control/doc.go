// Package control is the headless phone's local REST API: a bearer-token
// protected HTTP handler on a loopback address that shows the registration
// and the calls, places and drives calls, and streams the phone's events
// as Server-Sent Events. It is for automation and CRM hooks, and it is how
// tests drive the phone.
//
// Routes (every one needs "Authorization: Bearer TOKEN"):
//
//	GET  /v1/status                  registration state, account, current calls
//	GET  /v1/calls                   current calls
//	POST /v1/calls {"to": "..."}     dial; 201 with the call
//	POST /v1/calls/{id}/answer|hangup|hold|resume|mute|unmute
//	POST /v1/calls/{id}/dtmf {"digits": "..."}
//	POST /v1/calls/{id}/transfer {"to": "..."}
//	GET  /v1/events                  text/event-stream: status (first), registration, call, dtmf
//
// The handler drives a [Phone] (the adapter [SIPPhone] wraps *sip.Phone);
// the phone's events reach the stream through [Server.RegEvent],
// [Server.CallEvent] and [Server.DTMFEvent]. [LoadToken] keeps the token in
// the profile directory and [Listen] refuses non-loopback addresses.
//
// The package imports no UI toolkit.
package control
