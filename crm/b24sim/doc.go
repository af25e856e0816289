// Package b24sim is a stateful, wire-faithful simulator of a Bitrix24 portal's
// REST API, built for tests, benchmarks and demos of the Omniphone softphone.
//
// The behaviour follows the project's wire references
// (reference/b24-telephony-auth.md and reference/b24-crm.md) rather than what a
// client might expect: method names are case-insensitive with an optional
// ".json" suffix, query and body parameters are merged the way PHP does it
// (bracket syntax for forms, JSON bodies only with Content-Type
// application/json), successful answers carry a "time" block, errors carry
// {error, error_description} with the real HTTP status and no "time", and
// PHP typing quirks (numbers as strings, empty maps as []) are kept.
//
// A Server is an http.Handler. It serves:
//
//   - /rest/{USER_ID}/{CODE}/{method} for incoming webhooks and /rest/{method}
//     with auth= or access_token= for OAuth applications;
//   - /oauth/token/ (authorization_code and refresh_token grants) and
//     /oauth/authorize/ (auto-approving, for the code flow);
//   - /_sim/… an admin surface for tests (reset, state, request log, seed,
//     click-to-call and callback triggers, fault injection), loopback only;
//   - / a small HTML portal view whose phone numbers trigger click-to-call.
//
// Goroutines started by a Server (online event delivery) are stopped by Close.
// Time can be faked with Options.Now so token expiry and rate limits are
// testable without sleeping.
package b24sim
