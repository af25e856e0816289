// Package sync is Omniphone's sync engine: it takes finished calls (crm.Call,
// SPEC §11), keeps them in a ledger, and carries each one to Bitrix24 with
// the plan the rules engine (crm/rules) decides — exactly once in effect,
// through crashes, outages, rate limits and expired tokens. It runs embedded
// (SQLite via riversqlite + modernc.org/sqlite, one connection, WAL) and as
// omnisync on PostgreSQL (riverpgxv5) with several nodes. Import it as
// crmsync.
//
// # Jobs
//
// River jobs with JSON args, one queue ("bitrix"): omnisync_process_call
// (snapshot, decision, write), omnisync_delayed_responsible (CP5, scheduled
// at the call's end + N minutes, survives restarts), omnisync_recording_upload
// (RC1, after the finish, snoozed until the file or URL is there, up to about
// a day), omnisync_chat_message (OL1 when its link needs an entity created by
// the write). JobTimeout defaults to 60 s and RescueStuckJobsAfter to 90 s
// (River's default leaves a crashed job running for an hour); FetchCooldown
// to 20 ms (River's 100 ms caps a node at MaxWorkers×10 jobs/s). Bitrix24
// limits and outages (QUERY_LIMIT_EXCEEDED, 5xx, transport errors) snooze
// the job, so an outage of any length uses up no attempts; refusals fail
// the call with the reason, and so do dead credentials (a refused refresh
// token, a deleted webhook: "reconnect the portal …"), which no retry can
// fix. Workers and FetchCooldown are sized for Bitrix24's 2 requests/s:
// with limits off (a portal with a raised limit, benchmarks) a node needs
// more workers to hide the portal's latency — BenchmarkThroughput* runs
// 64 workers with the default cooldown (omnisync serve --workers 64).
//
// On SQLite the engine's connection keeps its compiled statements
// (sqlitestmt.go): modernc.org/sqlite compiles every query afresh, which
// was a third of an embedded node's CPU. On PostgreSQL the pool has
// 2×Workers+8 connections unless the URL sets pool_max_conns. Ledger
// writes (a POST's row with its job, "sending", "done" with the follow-up
// jobs) are group-committed (group.go): a writer (one on SQLite, four on
// PostgreSQL) runs the writes waiting at that moment in one transaction
// with one InsertManyTx of their jobs, and each caller returns once its
// write has committed.
//
// # Requests
//
// A call costs two Bitrix24 requests, fewer under load: the reads of calls
// that read at the same moment travel in one request (b24's BatchShared,
// up to 50 commands; writes never share). The read is one batch: the duplicate
// search by phone and, through $result references to its answer, the
// client's leads, contacts, companies, their deals and open call
// activities; the portal's CRM mode, users and pipelines ride along when
// the per-portal cache (10 min) is cold. The write is one batch: entities
// created with ORIGINATOR_ID "omniphone" and ORIGIN_ID = the call id,
// updates, completions, and the call activity written through telephony:
// telephony.externalCall.register (CRM_CREATE=0, EXTERNAL_CALL_ID = the call
// id, CRM_ENTITY_TYPE/ID = the plan's lead, contact or company, by a
// $result reference when created in the same batch), finish (Bitrix24
// writes the call activity and the statistics row), crm.activity.update of
// $result[fin][CRM_ACTIVITY_ID] to the plan's responsible, completion and
// subject with ORIGINATOR_ID "omniphone", and crm.activity.binding.add for
// the plan's other entities. So telephony statistics cost no extra
// request. Calls with bitrix24_call_id are only finished. With no entity
// register accepts (a deal alone) or a responsible who is no active user,
// the activity is added with crm.activity.add instead (noted in the
// result). Follow-ups (recording upload, the CP5 step, an OL1 message
// linking to a new entity) are requests of their own.
//
// # Exactly once
//
//   - The call id is the ledger's primary key and the job's unique key;
//     POST writes the ledger row and inserts the job in one transaction
//     (InsertManyTx, group.go), so a repeated POST changes nothing and
//     nothing is half-written.
//   - Before the write leaves, the ledger row goes to "sending" with the
//     plan and trace. The result (created IDs, the telephony CALL_ID) is
//     recorded in one transaction that also inserts the follow-up jobs;
//     River's batch completer then completes the job. The ledger, not the
//     job row, says a call is over: a job run again after a crash between
//     the two finds "done" and sends nothing. (JobCompleteTx in that
//     transaction would close the same window, but River completes the job
//     again in a query of its own anyway: two more statements per call.)
//   - A job that finds its call "sending" (a crash, or an unclear failure,
//     between "sent" and "recorded") reuses the stored plan and first
//     checks Bitrix24 in one batch: entities by ORIGINATOR_ID/ORIGIN_ID, the
//     call activity by ORIGINATOR_ID, START_TIME and phone, or by
//     ORIGINATOR_ID/ORIGIN_ID when the engine added it (see ORIGIN_ID
//     below). Only what is missing is created; updates are absolute
//     and sent again; a linked call already finished is taken as done; OL1
//     notifications carry TAG omnisync|<call id>, which makes Bitrix24
//     replace rather than repeat them. The result says so: resumed, and
//     found (what the earlier write had created); cmd/omnisync's crash
//     test counts those to show the window was hit.
//   - Follow-up steps have ledger rows (omnisync_step) checked the same way.
//
// # ORIGIN_ID of the call activity
//
// Entities the engine creates have ORIGIN_ID = the call id. The call
// activity written through telephony keeps the ORIGIN_ID Bitrix24 gives
// it, "VI_" + the telephony CALL_ID: Bitrix24's call provider reads it to
// show the call card, the recording player and the statistics row, so the
// crm.activity.update after the finish sends every field of the plan but
// ORIGIN_ID (and TYPE_ID, COMMUNICATIONS, SETTINGS, which the finish set).
// The call id is then the telephony call's EXTERNAL_CALL_ID; the ledger
// keeps the activity's ID and the telephony CALL_ID in the call's result.
// Only an activity the engine adds itself (crm.activity.add: no lead,
// contact or company to register with, or a responsible telephony does not
// accept) carries the plan's ORIGIN_ID = the call id. crm/rules/doc.go says
// the same from the plan's side.
//
// # Rate limit
//
// Embedded, the b24 client's own leaky bucket (2/s, burst 50) paces
// requests. On PostgreSQL every node shares a token bucket row
// (omnisync_bucket) updated on the database clock before each REST request
// (an http.RoundTripper around the client), one token smaller than the
// portal's bucket for network jitter; the client's limiter is off there.
//
// # Where we went around a library
//
//   - River has no global rate limit in OSS (concurrency limits are River
//     Pro), hence the PostgreSQL bucket.
//   - River has no public "rescue now": a job left running by a crashed
//     process waits RescueStuckJobsAfter plus a rescuer tick (every 30 s,
//     not configurable, leader only, after the dead leader's lease
//     expires), and Client.JobRetry skips running jobs. Embedded, one
//     process owns the SQLite file, so Start makes jobs still "running"
//     available again before River starts. Team mode keeps River's rescuer.
//   - riversqlite wants one connection (SQLITE_BUSY otherwise) and then
//     deadlocks if the pool is used while a transaction is open: the engine
//     never does, and does every write of a job's end inside the
//     transaction (reference/feasibility-river.md §1).
//   - River's unique key lasts only while the job row exists (completed rows
//     are cleaned after 24 h); the ledger keeps the call id forever.
//   - Bitrix24's telephony.externalCall.finish writes its own call activity
//     whatever CRM_CREATE says; the engine uses that activity instead of
//     adding a second one with crm.activity.add.
//   - The b24sim simulator gained crm.activity.binding.add for this.
//
// # API
//
// Handler serves POST /api/v1/calls (bearer token; 202; 400 naming the
// field), GET /api/v1/calls/{id} (queued, done or failed with reason,
// retries, manual retries, plan, trace, result, follow-up steps),
// POST /api/v1/calls/{id}/retry (Engine.Retry, Client.Retry: a failed call
// is queued again; 409 when it is not failed, 404 when unknown; a call
// whose plan was stored goes back to "sending", so the plan is reused and
// Bitrix24 checked before anything is created), GET /api/v1/calls?since=,
// GET /api/v1/route?number= (CP2; 404 when off or unknown), GET /healthz and
// GET /metrics (Prometheus: jobs and calls by state, Bitrix24 requests by
// method and outcome, call end → CRM latency, requests per call).
package sync
