// Package risk is the mandatory gate every order passes, the last step
// before the wire (design invariant 4). It is a pure state machine: the
// caller passes the time, the intent and the account state; the gate
// answers Approve, Trim or Refuse and keeps its breakers, which survive a
// restart through Snapshot/Restore. It does no I/O and starts no goroutines.
package risk
