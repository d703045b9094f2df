package matching

import "time"

// EventKind says which payload of an Event is valid.
type EventKind int8

// Event kinds, one per Bitunix private channel plus fills.
const (
	EventOrder    EventKind = iota + 1 // Order, Action CREATE/UPDATE/CLOSE
	EventFill                          // Fill
	EventPosition                      // Position, Action OPEN/UPDATE/CLOSE
	EventBalance                       // Balance
	EventTPSL                          // TPSL, Action CREATE/UPDATE/CLOSE
)

func (k EventKind) String() string {
	switch k {
	case EventOrder:
		return "order"
	case EventFill:
		return "fill"
	case EventPosition:
		return "position"
	case EventBalance:
		return "balance"
	case EventTPSL:
		return "tpsl"
	}
	return "unknown"
}

// Action is the Bitunix push "event" field.
type Action int8

// Actions. Orders and TP/SL use Create/Update/Close; positions use
// OpenPos/Update/Close.
const (
	ActionCreate Action = iota + 1
	ActionUpdate
	ActionClose
	ActionOpen
)

func (a Action) String() string {
	switch a {
	case ActionCreate:
		return "CREATE"
	case ActionUpdate:
		return "UPDATE"
	case ActionClose:
		return "CLOSE"
	case ActionOpen:
		return "OPEN"
	}
	return "UNKNOWN"
}

// Event is one state change for one account. Kind says which of Order,
// Fill, Position, Balance or TPSL is filled in; the others hold stale data
// and must be ignored.
type Event struct {
	Kind     EventKind
	Action   Action
	Account  string
	Time     time.Time
	Order    Order
	Fill     Fill
	Position Position
	Balance  AccountSummary
	TPSL     TPSL
}

// Sink receives every event synchronously, in order, during the engine call
// that caused it. The *Event is reused by the engine: it is valid only for
// the duration of the call, so copy what you keep. A sink must not call
// back into the Engine.
type Sink func(ev *Event)
