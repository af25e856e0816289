// Package b24 is Omniphone's one way to talk to Bitrix24 REST: incoming
// webhooks and OAuth applications, JSON requests, tolerant decoding of the
// PHP server's typing quirks, batch with $result references, paging, and
// the rate limits.
//
// The failures it exists to avoid are the known ones of other clients:
//   - a refresh race when many requests find the access token expired at
//     once (refresh is single-flight; the rotated refresh token is saved
//     before it is used);
//   - a dead refresh token retried forever (it becomes *ReconnectError, which
//     the UI turns into "reconnect the portal");
//   - QUERY_LIMIT_EXCEEDED storms (a client-side leaky bucket matching the
//     portal's, default 2/s with a burst of 50, and backoff with jitter);
//   - duplicates after a retry (a write is retried only when the request
//     certainly did not run — limit and auth rejections — or when the
//     caller marks it idempotent).
//
// Everything is tested against crm/b24sim, the portal simulator.
package b24
