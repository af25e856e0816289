// Package events takes Bitrix24's telephony events — click-to-call
// (OnExternalCallStart, SPEC C1–C4) and callback (OnExternalCallBackStart,
// CB1) — and turns each into one call for the right phone.
//
// # Pieces
//
//   - Install binds both events and makes sure the app's external line
//     exists with CRM_AUTO_CREATE=N, so that Bitrix24 pre-registers a click
//     without creating a lead of its own (SPEC D2). It reads event.get and
//     telephony.externalline.get first and adds only what is missing, so it
//     is safe to run at every start. It binds online when given a handler
//     URL, offline otherwise, and reports other bindings of the same events
//     instead of deleting them (they may belong to another desktop).
//   - Handler is the online endpoint (SPEC §11), an http.Handler. It reads
//     the form body with DecodeForm, checks the portal and
//     auth[application_token], puts the event on a bounded queue and answers
//     200 at once: Bitrix24 does not retry and slows its queue for slow
//     handlers. Its own workers dispatch; Close drains the queue and waits.
//     Wrong or missing tokens, unknown portals and a mismatched member_id
//     are 401 and logged; malformed bodies and unusable data 400; a full
//     queue or a closed handler 503. Other events with a valid token are
//     acknowledged and ignored.
//   - Poller is the offline path for a desktop no portal can reach:
//     event.offline.get with clear=0 reserves a batch under a process_id;
//     each event is dispatched; event.offline.clear removes the handled
//     ones and event.offline.error marks the failed ones. The wait is 1 s
//     after a batch, grows by half with every empty poll up to 10 s, is zero
//     after a full batch, doubles after failures up to 60 s (at least the
//     idle wait after a limit or auth error), and every request still goes
//     through the client's rate limiter. Run returns when ctx ends.
//   - Router implements Dispatcher: it decides with crm/rules (ClickToCall
//     for C1/C3, Callback for CB1) and hands a DialRequest to a Target.
//   - Directory (PortalDirectory over the REST client) maps USER_ID to the
//     employee's extension (UF_PHONE_INNER from user.get, cached for
//     10 minutes and reloaded on an unknown user at most every 30 s) and a
//     callback's entity to its responsible (crm.<type>.get).
//
// # Choices
//
// Verification (reference §4.7). Every online event must carry the stored
// application_token of the portal named by auth[domain], compared in
// constant time; a portal entry with a MemberID also checks
// auth[member_id]. Bitrix24 offers no REST method that returns the token,
// so the first one has to come from the portal itself. The Handler stores
// it from ONAPPINSTALL when none is stored, as b24phpsdk does, and never
// lets ONAPPINSTALL replace a stored token (a reinstall that changes it
// needs the old one deleted from the SecretStore first). Any other event of
// a portal without a stored token is refused with 401 unless
// HandlerOptions.TrustFirstUse is set; then the first event's token is
// stored and logged as a warning. Trust on first use is off by default
// because whoever reaches the URL first would own the portal's events.
// Offline events need no token: they are fetched over the authenticated
// REST client.
//
// At most once. A click dials at most once: the handler acknowledges
// before dialling and Bitrix24 does not retry; the poller settles a batch
// only after dispatching it, but reserved rows are never handed out again,
// so a crash in between loses the click rather than dialling it twice (the
// operator clicks again; a client called twice is worse). A failed
// settlement is retried before the next poll. The Router also remembers
// CALL_IDs for DedupWindow (20 s) so an event that arrives both online and
// offline, or a double click, dials once. The window is short on purpose:
// Bitrix24 returns the same CALL_ID for a new click on a number whose call
// is not finished yet.
//
// Stale clicks. A click older than ClickMaxAge (2 min) is acknowledged and
// not dialled: after a desktop was off, its offline queue must not start
// calling clients. Callbacks keep for CallbackMaxAge (1 h). Both compare
// the portal's timestamp with the local clock, so they also absorb clock
// skew of that size.
//
// Numbers. Router.Normalize gets the number as clicked; the default,
// CleanNumber, only strips punctuation and an extension and refuses
// letters. The desktop passes the phone's dial plan (for example a wrapper
// over sip.NormalizeNumber) so the PBX receives the form it accepts; this
// package does not import sip.
//
// CALL_ID. A click arrives with a call Bitrix24 has already registered.
// DialRequest.CallID carries it to the phone, which puts it into the call
// record's bitrix24_call_id; the sync engine then only finishes that call
// and never registers another. Callbacks carry no CALL_ID and are
// registered by the sync engine like any other outgoing call.
//
// Line. A click on the app's default "REST_APP:" line (LINE_NUMBER "")
// is pre-registered with CRM_AUTO_CREATE=Y; the Router logs a warning that
// the Omniphone line must be chosen as the default outgoing number.
//
// # Who runs what
//
// One desktop, portal reachable or not: Install (online when the desktop
// has a public handler URL, usually not), then Handler or Poller with a
// Router whose Target is the phone, without a filter.
//
// Several desktops polling on their own: each installs an offline binding
// with its own InstallOptions.Connector (a separate offline queue each, so
// they do not take each other's events; AUTH_CONNECTOR needs the
// Professional plan) and runs a Router with a UserFilter of its own user or
// extension; exactly one of them sets UserFilter.Unmapped to take callbacks
// that no employee is mapped to.
//
// Team mode: omnisync installs the online binding, serves the Handler and
// runs a Router without a filter whose Target is a hub that pushes each
// DialRequest (plain JSON) to the desktop of its UserID or Extension over a
// persistent connection (SSE or WebSocket). The hub returns
// ErrNotConnected when that desktop is not connected; the Router logs it
// and acknowledges the event (C1). The hub is not part of this package.
package events
