// Package cases owns the case loop of GB/T 30428.8: report, accept, verify, file
// or void, dispatch, handle, extend / return / suspend with approval, feedback, check, close or
// rework, supervision (督办) and self-handling (自处理), each transition recorded append-only.
//
// # The state machine
//
// Machine is the whole table (state × action → next state, and the posts allowed). The
// choices it encodes:
//
//   - A report starts in reported. An inspector reports from patrol (source inspector); every
//     other source (citizen, 12345 hotline, video, referral, media, sensor) is entered by an
//     acceptor. The acceptor accepts it (accepted), sends an inspector to verify (核实,
//     verifying → accepted once the inspector verifies), or voids it (not a case: a duplicate,
//     nonsense). "Verified" is folded into accepted: both mean "ready for the shift lead", and
//     the timeline says whether a verification happened.
//   - The shift lead files it (立案, filed) if the filing condition holds, otherwise voids it
//     (不予立案). Filing picks the 立结案标准 standard (the class's only one, or standard_id),
//     which gives the department and the disposal time limit; a class without a standard is
//     filed with a limit given by hand.
//   - The dispatcher dispatches it (dispatched) to the standard's department or another one;
//     the disposal clock starts at the first dispatch.
//   - A handler of that department (a staff member linked to the caller's identity, in the
//     case's department or one above it) takes it (handling), and from there asks to extend,
//     return or suspend, or feeds back with after-photos (fed_back, the clock stops). A return
//     may also be asked straight from dispatched.
//   - Approvals: the shift lead approves or rejects extensions (the extra time is added to the
//     timer) and suspensions (挂账: an open pause on the clock until the shift lead resumes
//     it); the dispatcher approves or rejects returns, since re-dispatching is theirs. An
//     approved return sends the case back to filed with no department and a fresh clock for
//     the next one; every rejection goes back to handling.
//   - The acceptor sends an inspector to check (核查, checking); the inspector checks and says
//     whether the closing condition holds (checked); the shift lead closes it (closed: only
//     when the check passed) or sends it back for rework (返工, dispatched again to the same department: the time between
//     feedback and rework is a pause, since the case was not the department's then).
//   - 督办: a leader flags any case that is not closed or voided (supervised); the state does
//     not change, the flag is recorded as an event like any action.
//   - 自处理: an inspector reports with self_handled; the case is created closed. Its photos may
//     still be added by that inspector.
//
// Sending to verify or to check records the grid's responsible inspector (from the
// responsibility grid resolved at report time) in the event's detail; any inspector may do the
// visit, and the event says who did.
//
// Tenant admins configure the loop but take no post in it: every action needs its post.
//
// # History and concurrency
//
// Every action appends one case_events row (actor identity and e-mail, post, from, to, reason,
// attachments, detail) in the transaction that changes the case; a program acting for a citizen
// without an identity of its own (an Open311 client app, WithClient) is named as the actor,
// "open311:<client name>", with its key's id in the detail; the database refuses
// updates and deletes of case_events (triggers in both dialects). Each action carries the
// version the caller saw; the update is "WHERE version = ?", so of two concurrent actions one
// wins and the other gets errs.Conflict (409) asking to reload.
//
// # Numbers, personal data, photos, usage
//
// Case numbers read <admin code>-<year>-<serial>, e.g. 532301-2026-000123, from a per-tenant,
// per-year counter row bumped in the creating transaction (years in China Standard Time). The
// list's order and cursor use seq = year·10⁸ + serial, which follows creation order.
// The reporter's name and phone are encrypted with the tenant's key (Cipher) before the
// transaction: a key store outage fails the report with errs.Unavailable and writes nothing.
// They are decrypted only for the acceptor, shift lead and tenant admin, masked for everyone
// else, and never listed. Photos (JPEG, PNG, WebP by their magic bytes, at most MaxPhoto) are
// stored content-addressed under the photo directory per tenant and served only through the
// tenant's API. After a case is created, one cases_created usage event is recorded with the
// case id as idempotency key; a billing failure is logged and never fails the case.
//
// # Deadlines and overdue
//
// The disposal timer (calendar.Timer: start, limit, extensions, pauses) is kept on the case;
// every action recomputes the deadline, overdue flag and overtime multiple (超时倍数) with the
// tenant's calendar. MarkOverdue does the same for cases whose stored deadline has passed, from
// the database alone, so the periodic job loses nothing across restarts. The actions that start,
// move, stop or reset the clock (dispatch, approve_extension, approve_suspension, resume,
// approve_return, feedback, rework) record in their event's detail the deadline after the action
// ("deadline": RFC 3339 UTC, null while the clock is not running), so the history tells what
// deadline a case ran under at any moment. MarkOverdueAll is that
// job's pass over every active tenant, a few tenants at a time: a tenant that fails is logged on
// the service's logger and counted, and the others are still marked.
//
// Every stage of the loop is timed too (stages.go): accept (reported), verify (verifying), file
// (accepted), dispatch (filed), handle (dispatched … suspended), send_check (fed_back), check
// (checking) and close (checked). Entering a stage starts its clock with the tenant's limit for
// it (StageLimits: working hours or days in the work calendar for ordinary cases, urgent hours
// for urgent ones; a case is urgent when its disposal limit counts urgent hours); the handling
// stage mirrors the disposal clock. The action that ends a stage records in its event how the
// stage went (deadline, overdue, overtime multiple), which is what on-time rates are counted
// from; MarkOverdue flags running stages past their deadline (stage_overdue, with the multiple).
// The list's overdue=true covers any clock.
package cases
