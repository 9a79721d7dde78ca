package cases

import (
	"slices"

	"github.com/cityops/cityops/tenants"
)

// State is where a case stands in the loop.
type State string

// The states of a case (doc.go tells the story).
const (
	Reported            State = "reported"             // 上报, waiting for the acceptor
	Verifying           State = "verifying"            // 核实: an inspector is sent to verify
	Accepted            State = "accepted"             // 受理 (and verified): waiting to be filed
	Filed               State = "filed"                // 立案: waiting to be dispatched
	Voided              State = "voided"               // 作废 / 不予立案 (final)
	Dispatched          State = "dispatched"           // 派遣: the disposal clock runs
	Handling            State = "handling"             // 处置: the department has taken it
	ExtensionRequested  State = "extension_requested"  // 延期 asked
	ReturnRequested     State = "return_requested"     // 回退 asked ("not ours")
	SuspensionRequested State = "suspension_requested" // 挂账 asked
	Suspended           State = "suspended"            // 挂账: the clock stands still
	FedBack             State = "fed_back"             // 处理反馈: result with after-photos
	Checking            State = "checking"             // 核查: an inspector is sent to check
	Checked             State = "checked"              // checked on site, waiting for the shift lead
	Closed              State = "closed"               // 结案 (final)
)

// Final reports whether no action but reading applies to s.
func (s State) Final() bool { return s == Closed || s == Voided }

// Action is what a post does to a case.
type Action string

// The actions. Report and SelfHandle create a case; Supervise sets a flag and keeps the state.
const (
	Report            Action = "report"
	SelfHandle        Action = "self_handle"
	Accept            Action = "accept"
	SendVerify        Action = "send_verify"
	Verify            Action = "verify"
	File              Action = "file"
	Void              Action = "void"
	Dispatch          Action = "dispatch"
	Take              Action = "take"
	RequestExtension  Action = "request_extension"
	ApproveExtension  Action = "approve_extension"
	RejectExtension   Action = "reject_extension"
	RequestReturn     Action = "request_return"
	ApproveReturn     Action = "approve_return"
	RejectReturn      Action = "reject_return"
	RequestSuspension Action = "request_suspension"
	ApproveSuspension Action = "approve_suspension"
	RejectSuspension  Action = "reject_suspension"
	Resume            Action = "resume"
	Feedback          Action = "feedback"
	SendCheck         Action = "send_check"
	Check             Action = "check"
	Close             Action = "close"
	Rework            Action = "rework"
	Supervise         Action = "supervise"
)

// Transition is one row of the state machine: in state From, the holders of Posts may take
// Action, which leads to To.
type Transition struct {
	From   State
	Action Action
	To     State
	Posts  []tenants.Role
}

var (
	inspector  = []tenants.Role{tenants.Inspector}
	acceptor   = []tenants.Role{tenants.Acceptor}
	shiftLead  = []tenants.Role{tenants.ShiftLead}
	dispatcher = []tenants.Role{tenants.Dispatcher}
	handler    = []tenants.Role{tenants.Handler}
)

// Machine is the whole state machine, one row per state and action. Supervise (督办) is not in
// it: a leader may flag any case that is not final, and the state does not change.
var Machine = []Transition{
	{Reported, Accept, Accepted, acceptor},
	{Reported, SendVerify, Verifying, acceptor},
	{Reported, Void, Voided, acceptor},
	{Verifying, Verify, Accepted, inspector},
	{Accepted, SendVerify, Verifying, acceptor},
	{Accepted, File, Filed, shiftLead},
	{Accepted, Void, Voided, shiftLead},
	{Filed, Dispatch, Dispatched, dispatcher},
	{Dispatched, Take, Handling, handler},
	{Dispatched, RequestReturn, ReturnRequested, handler},
	{Handling, RequestReturn, ReturnRequested, handler},
	{Handling, RequestExtension, ExtensionRequested, handler},
	{Handling, RequestSuspension, SuspensionRequested, handler},
	{Handling, Feedback, FedBack, handler},
	{ReturnRequested, ApproveReturn, Filed, dispatcher},
	{ReturnRequested, RejectReturn, Handling, dispatcher},
	{ExtensionRequested, ApproveExtension, Handling, shiftLead},
	{ExtensionRequested, RejectExtension, Handling, shiftLead},
	{SuspensionRequested, ApproveSuspension, Suspended, shiftLead},
	{SuspensionRequested, RejectSuspension, Handling, shiftLead},
	{Suspended, Resume, Handling, shiftLead},
	{FedBack, SendCheck, Checking, acceptor},
	{Checking, Check, Checked, inspector},
	{Checked, Close, Closed, shiftLead},
	{Checked, Rework, Dispatched, shiftLead},
}

// SupervisePosts may flag a case for supervision (督办).
var SupervisePosts = []tenants.Role{tenants.Leader}

// ReportPosts may report a case: inspectors from patrol, acceptors for every other source.
var ReportPosts = []tenants.Role{tenants.Inspector, tenants.Acceptor}

// needsReason lists the actions that must say why.
var needsReason = []Action{Void, RequestExtension, RejectExtension, RequestReturn, RejectReturn,
	RequestSuspension, RejectSuspension, Rework, Supervise}

// handlerActions are taken by a handler for the department the case is dispatched to.
var handlerActions = []Action{Take, RequestExtension, RequestReturn, RequestSuspension, Feedback}

// lookup finds the transition for action in state from.
func lookup(from State, a Action) (Transition, bool) {
	for _, t := range Machine {
		if t.From == from && t.Action == a {
			return t, true
		}
	}
	return Transition{}, false
}

// known reports whether a is an action of the machine (or Supervise).
func known(a Action) bool {
	if a == Supervise {
		return true
	}
	return slices.ContainsFunc(Machine, func(t Transition) bool { return t.Action == a })
}

// postFor returns the first of sc's roles among posts.
func postFor(sc *tenants.Scope, posts []tenants.Role) (tenants.Role, bool) {
	for _, r := range sc.Roles {
		if slices.Contains(posts, r) {
			return r, true
		}
	}
	return "", false
}
