package risk

import (
	"fmt"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/trading"
)

// Verdict is the gate's answer. The zero value is not an approval.
type Verdict uint8

// Verdicts.
const (
	Approve Verdict = iota + 1
	Trim            // approved with a smaller Decision.Qty
	Refuse
)

func (v Verdict) String() string {
	switch v {
	case Approve:
		return "approve"
	case Trim:
		return "trim"
	case Refuse:
		return "refuse"
	}
	return fmt.Sprintf("Verdict(%d)", uint8(v))
}

// Reason says why an intent was trimmed or refused. It is an enum so
// metrics can use it as a bounded label.
type Reason uint8

// Reasons.
const (
	ReasonNone             Reason = iota
	ReasonInvalid                 // qty <= 0, unknown side, limit without price
	ReasonNoPrice                 // market order and no reference price
	ReasonNotReducing             // ReduceOnly intent that would not reduce
	ReasonKillSwitch              // kill switch engaged
	ReasonDailyLoss               // daily-loss breaker tripped
	ReasonDrawdown                // drawdown breaker tripped
	ReasonStaleData               // market data older than Limits.StaleData
	ReasonOrderRate               // Limits.MaxOrdersPerMinute reached
	ReasonOrderNotional           // Limits.MaxOrderNotional
	ReasonPositionNotional        // Limits.MaxPositionNotional
	ReasonTotalNotional           // Limits.MaxTotalNotional
	ReasonLeverage                // Limits.MaxLeverage (or equity <= 0)
	ReasonBelowMinQty             // trimmed below the symbol's minimum quantity
	numReasons
)

var reasonNames = [numReasons]string{"none", "invalid", "no_price", "not_reducing", "kill_switch", "daily_loss", "drawdown",
	"stale_data", "order_rate", "order_notional", "position_notional", "total_notional", "leverage", "below_min_qty"}

// String is the metrics label.
// MarshalText makes reasons read as words in /status and logs.
func (r Reason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}

// Breaker names a latching circuit breaker.
type Breaker uint8

// Breakers. BreakerNone marks a refusal by a plain limit.
const (
	BreakerNone      Breaker = iota
	BreakerKill              // manual kill switch: until Resume
	BreakerDailyLoss         // until the next UTC day
	BreakerDrawdown          // until Resume
	numBreakers
)

var breakerNames = [numBreakers]string{"none", "kill_switch", "daily_loss", "drawdown"}

func (b Breaker) String() string {
	if b < numBreakers {
		return breakerNames[b]
	}
	return fmt.Sprintf("Breaker(%d)", uint8(b))
}

func (b Breaker) reason() Reason {
	switch b {
	case BreakerKill:
		return ReasonKillSwitch
	case BreakerDailyLoss:
		return ReasonDailyLoss
	case BreakerDrawdown:
		return ReasonDrawdown
	}
	return ReasonNone
}

// Decision is the gate's answer to one intent.
type Decision struct {
	Verdict Verdict
	// Qty is the approved quantity: the intent's on Approve, smaller on
	// Trim, zero on Refuse.
	Qty fixed.Value
	// Reason says which limit trimmed or refused the intent.
	Reason Reason
	// Breaker is the tripped breaker that refused or trimmed it, if any.
	Breaker Breaker
	// ReduceOnly: the intent was approved only because it closes risk
	// while new exposure is blocked (a breaker, stale data); it must go to
	// the exchange as reduce-only, so that it cannot open a position if
	// the position changes before it fills.
	ReduceOnly bool
}

// Approved reports whether the intent may be sent (possibly trimmed).
func (d Decision) Approved() bool { return d.Verdict == Approve || d.Verdict == Trim }

func (d Decision) String() string {
	if d.Verdict == Approve {
		return "approve " + d.Qty.String()
	}
	return fmt.Sprintf("%s %s (%s, breaker %s)", d.Verdict, d.Qty, d.Reason, d.Breaker)
}

// AccountState is what the gate needs to know about the account and the
// intent's symbol at the moment of the check. The caller (engine / order
// manager) fills it from its books; the gate keeps none of it.
type AccountState struct {
	// Equity is wallet balance plus unrealised PnL, net of fees and
	// funding paid: the figure daily loss and drawdown are measured on.
	Equity fixed.Value
	// Position is the signed position in the intent's symbol (+ long).
	Position fixed.Value
	// OpenBuyQty and OpenSellQty are resting orders in the intent's
	// symbol; they count as worst-case exposure for the position limit.
	OpenBuyQty, OpenSellQty fixed.Value
	// Price is the reference price (mark or last trade) of the symbol,
	// used to value market orders and positions.
	Price fixed.Value
	// TotalNotional is Σ|position|×price over all symbols, this one included.
	TotalNotional fixed.Value
	// MarketData is when market data for the symbol last arrived.
	MarketData time.Time
	// Spec rounds trimmed quantities down to the lot step and enforces
	// the minimum quantity; nil leaves trimmed quantities unrounded.
	Spec *instrument.Spec
}

// BreakerStatus describes one breaker for metrics and status pages.
type BreakerStatus struct {
	Breaker Breaker   `json:"-"`
	Name    string    `json:"name"`
	Tripped bool      `json:"tripped"`
	Reason  Reason    `json:"reason"`
	Detail  string    `json:"detail,omitempty"` // human explanation of the trip
	Since   time.Time `json:"since,omitzero"`
}

// BreakerState is the persisted state of one breaker.
type BreakerState struct {
	Tripped bool      `json:"tripped"`
	Since   time.Time `json:"since,omitzero"`
	Detail  string    `json:"detail,omitempty"`
	// Resumed is when an operator last released it: replicas merging
	// their states honour a release later than the other side's trip.
	Resumed time.Time `json:"resumed,omitzero"`
}

// State is the gate's persistent state: breakers, the daily baseline,
// the equity peak and the recent order times. It is plain data, JSON
// friendly, for the journal to store and Restore to load after a restart.
type State struct {
	Kill      BreakerState `json:"kill"`
	DailyLoss BreakerState `json:"dailyLoss"`
	Drawdown  BreakerState `json:"drawdown"`
	// Day is 00:00 UTC of the day DayStartEquity belongs to; zero before
	// the first check.
	Day            time.Time   `json:"day,omitzero"`
	DayStartEquity fixed.Value `json:"dayStartEquity"`
	PeakEquity     fixed.Value `json:"peakEquity"`
	// PeakRebased is when a drawdown release re-based PeakEquity.
	PeakRebased time.Time `json:"peakRebased,omitzero"`
	// RecentOrders are the approval times inside the rate window.
	RecentOrders []time.Time `json:"recentOrders,omitempty"`
}

// rateWindow is the order-rate limit's sliding window.
const rateWindow = time.Minute

// Gate is the risk gate. It is not safe for concurrent use: like every
// state machine here, one goroutine owns it.
type Gate struct {
	limits   Limits
	breakers [numBreakers]BreakerState // index BreakerNone unused

	day            int64 // unix day number of DayStartEquity; -1 = unset
	dayStartEquity fixed.Value
	peakEquity     fixed.Value
	// The loss breakers' thresholds for the current bases.
	dailyLimit, drawdownLimit product
	peakRebased               time.Time
	lastEquity                fixed.Value

	// orders is a ring of approval times (unix nanos), capacity
	// MaxOrdersPerMinute, oldest at head.
	orders []int64
	head   int
	n      int
}

// New returns a gate with no breaker tripped.
func New(l Limits) (*Gate, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	return &Gate{limits: l, day: -1, orders: make([]int64, l.MaxOrdersPerMinute)}, nil
}

// Limits returns the gate's limits.
func (g *Gate) Limits() Limits { return g.limits }

// Kill engages the kill switch: no new exposure until Resume.
func (g *Gate) Kill(now time.Time, reason string) {
	if !g.breakers[BreakerKill].Tripped {
		g.breakers[BreakerKill] = BreakerState{Tripped: true, Since: now, Detail: reason}
	}
}

// Resume releases the kill switch and the drawdown breaker at now,
// re-basing the equity peak on the last equity seen so the old peak does
// not re-trip it at once. The daily-loss breaker is not released: it
// clears at the next UTC day, so a loss limit cannot be talked away the
// same day.
func (g *Gate) Resume(now time.Time) {
	g.breakers[BreakerKill] = BreakerState{Resumed: now}
	if g.breakers[BreakerDrawdown].Tripped {
		g.breakers[BreakerDrawdown] = BreakerState{Resumed: now}
		g.peakEquity = g.lastEquity
		g.peakRebased = now
	}
}

// Tripped reports whether any breaker is tripped.
func (g *Gate) Tripped() bool {
	for b := BreakerKill; b < numBreakers; b++ {
		if g.breakers[b].Tripped {
			return true
		}
	}
	return false
}

// Breakers appends the status of every breaker to dst.
func (g *Gate) Breakers(dst []BreakerStatus) []BreakerStatus {
	for b := BreakerKill; b < numBreakers; b++ {
		s := g.breakers[b]
		dst = append(dst, BreakerStatus{Breaker: b, Name: b.String(), Tripped: s.Tripped, Reason: b.reason(), Detail: s.Detail, Since: s.Since})
	}
	return dst
}

// Observe updates the daily baseline, the equity peak and the loss
// breakers from the current equity without checking an order; the engine
// calls it on every equity change so breakers trip even when idle.
func (g *Gate) Observe(now time.Time, equity fixed.Value) {
	g.lastEquity = equity
	day := UnixDay(now)
	if day != g.day {
		g.day = day
		g.dayStartEquity = equity
		g.breakers[BreakerDailyLoss] = BreakerState{}
	}
	if equity > g.peakEquity {
		g.peakEquity = equity
	}
	if !g.breakers[BreakerDailyLoss].Tripped && g.dayStartEquity > 0 {
		limit := g.dailyLimit.of(g.dayStartEquity, g.limits.MaxDailyLoss)
		if loss := g.dayStartEquity - equity; loss >= limit {
			g.breakers[BreakerDailyLoss] = BreakerState{Tripped: true, Since: now,
				Detail: fmt.Sprintf("daily loss %s >= %s (%s of start-of-day equity %s)", loss, limit, g.limits.MaxDailyLoss, g.dayStartEquity)}
		}
	}
	if !g.breakers[BreakerDrawdown].Tripped && g.peakEquity > 0 {
		limit := g.drawdownLimit.of(g.peakEquity, g.limits.MaxDrawdown)
		if dd := g.peakEquity - equity; dd >= limit {
			g.breakers[BreakerDrawdown] = BreakerState{Tripped: true, Since: now,
				Detail: fmt.Sprintf("drawdown %s >= %s (%s of peak equity %s)", dd, limit, g.limits.MaxDrawdown, g.peakEquity)}
		}
	}
}

// product is base × rate, remembered for the last inputs: Observe runs on
// every mark, and its bases (start-of-day equity, the peak) rarely move.
type product struct {
	base, rate, value fixed.Value
	ok                bool
}

func (p *product) of(base, rate fixed.Value) fixed.Value {
	if !p.ok || p.base != base || p.rate != rate {
		p.base, p.rate, p.value, p.ok = base, rate, base.Mul(rate), true
	}
	return p.value
}

// UnixDay is the UTC day number of t: the days the daily-loss breaker
// counts.
func UnixDay(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}

// Reducible is how much of an intent only reduces the position: on the
// opposite side, up to the position less the resting orders on the
// intent's side (they close first; beyond what they leave, an order opens
// new exposure if all fill). A ReduceOnly intent is capped by the
// exchange, so the whole position counts.
func Reducible(in trading.Intent, st AccountState) fixed.Value {
	pos := st.Position.Mul(in.Side.Sign()) // in the order's direction: < 0 means the order reduces
	reducible := max(-pos, 0)
	if !in.ReduceOnly {
		sameSide := st.OpenSellQty
		if in.Side == trading.Buy {
			sameSide = st.OpenBuyQty
		}
		reducible = max(reducible-sameSide, 0)
	}
	return reducible
}

// Check decides one intent. It first updates the breakers from
// state.Equity (see Observe). Then, in order:
//
//   - an invalid intent is refused;
//   - an intent that only reduces the current position (opposite side,
//     qty <= |position| less the resting orders on its side, which would
//     close that much first; a ReduceOnly intent is capped by the exchange
//     and counts the whole position) is approved whatever else holds:
//     closing risk must always be possible; while new exposure is blocked
//     it is approved as reduce-only;
//   - a ReduceOnly intent that would not reduce is refused;
//   - a tripped breaker refuses new exposure; an intent that would flip
//     the position is trimmed to the closing part;
//   - stale market data (age >= StaleData) likewise;
//   - the order rate (MaxOrdersPerMinute in a sliding minute) refuses;
//   - order, position, total notional and leverage limits trim the qty to
//     the largest that fits (rounded down to the lot), refusing when
//     nothing, or less than the minimum quantity, would be left.
//
// Limits are inclusive: exactly at a size limit is approved; breakers and
// staleness trip exactly at their thresholds. Approved and trimmed intents
// are counted for the order rate; refused ones are not.
func (g *Gate) Check(now time.Time, in trading.Intent, st AccountState) Decision {
	if in.Qty <= 0 || (in.Side != trading.Buy && in.Side != trading.Sell) ||
		(in.Type == trading.Limit && in.Price <= 0) || (in.Type != trading.Limit && in.Type != trading.Market) {
		return Decision{Verdict: Refuse, Reason: ReasonInvalid}
	}
	g.Observe(now, st.Equity)
	nowNs := now.UnixNano()
	g.expireOrders(nowNs)

	reducible := Reducible(in, st)
	why, breaker, blocked := g.exposureBlock(now, st)
	if in.Qty <= reducible {
		g.recordOrder(nowNs)
		return Decision{Verdict: Approve, Qty: in.Qty, ReduceOnly: blocked}
	}
	if in.ReduceOnly {
		if reducible == 0 {
			return Decision{Verdict: Refuse, Reason: ReasonNotReducing}
		}
		// Reduce-only larger than the position: the exchange would cap
		// it anyway; send only the closing part.
		return g.trim(nowNs, reducible, ReasonNotReducing, BreakerNone)
	}
	if blocked {
		return g.closeOnly(nowNs, reducible, why, breaker)
	}
	if g.n >= len(g.orders) {
		return Decision{Verdict: Refuse, Reason: ReasonOrderRate}
	}

	px := st.Price
	if in.Type == trading.Limit {
		px = in.Price
	}
	if px <= 0 {
		return Decision{Verdict: Refuse, Reason: ReasonNoPrice}
	}

	allowed, why := in.Qty, ReasonNone
	limit := func(q fixed.Value, r Reason) {
		if q < allowed {
			allowed, why = max(q, 0), r
		}
	}
	limit(qtyFor(g.limits.MaxOrderNotional, px), ReasonOrderNotional)

	// Worst-case position after the order, counting resting orders on the
	// same side, in the order's direction.
	base := st.Position.Mul(in.Side.Sign())
	if in.Side == trading.Buy {
		base += st.OpenBuyQty
	} else {
		base += st.OpenSellQty
	}
	limit(qtyFor(g.limits.MaxPositionNotional, px)-base, ReasonPositionNotional)

	// Total notional grows by |base+q|-|base|: the part of q that first
	// offsets an opposite position is free, twice (it removes that
	// exposure and then adds the same amount back on the other side).
	// Already over a limit (negative headroom), only the closing part
	// remains allowed.
	closing := max(-base, 0)
	free := closing * 2
	limit(max(closing, free+signedQtyFor(g.limits.MaxTotalNotional-st.TotalNotional, px)), ReasonTotalNotional)
	if st.Equity <= 0 {
		limit(closing, ReasonLeverage)
	} else {
		limit(max(closing, free+signedQtyFor(st.Equity.Mul(g.limits.MaxLeverage)-st.TotalNotional, px)), ReasonLeverage)
	}

	if allowed == in.Qty {
		g.recordOrder(nowNs)
		return Decision{Verdict: Approve, Qty: in.Qty}
	}
	return g.trimChecked(nowNs, allowed, why, BreakerNone, st.Spec)
}

// closeOnly answers an intent that must not add exposure: trim it to the
// part that closes the position, or refuse if there is none.
func (g *Gate) closeOnly(nowNs int64, reducible fixed.Value, r Reason, b Breaker) Decision {
	if reducible <= 0 {
		return Decision{Verdict: Refuse, Reason: r, Breaker: b}
	}
	d := g.trim(nowNs, reducible, r, b)
	d.ReduceOnly = true
	return d
}

// exposureBlock says why new exposure is refused now, if it is: the first
// tripped breaker, else stale market data.
func (g *Gate) exposureBlock(now time.Time, st AccountState) (Reason, Breaker, bool) {
	for b := BreakerKill; b < numBreakers; b++ {
		if g.breakers[b].Tripped {
			return b.reason(), b, true
		}
	}
	if st.MarketData.IsZero() || now.Sub(st.MarketData) >= g.limits.StaleData {
		return ReasonStaleData, BreakerNone, true
	}
	return ReasonNone, BreakerNone, false
}

func (g *Gate) trim(nowNs int64, q fixed.Value, r Reason, b Breaker) Decision {
	g.recordOrder(nowNs)
	return Decision{Verdict: Trim, Qty: q, Reason: r, Breaker: b}
}

func (g *Gate) trimChecked(nowNs int64, q fixed.Value, r Reason, b Breaker, spec *instrument.Spec) Decision {
	if spec != nil {
		q = spec.RoundQty(q)
		if q > 0 && q < spec.MinQty {
			return Decision{Verdict: Refuse, Reason: ReasonBelowMinQty, Breaker: b}
		}
	}
	if q <= 0 {
		return Decision{Verdict: Refuse, Reason: r, Breaker: b}
	}
	return g.trim(nowNs, q, r, b)
}

// qtyFor is the largest quantity whose notional at px stays within
// notional (never rounded up past it).
func qtyFor(notional, px fixed.Value) fixed.Value {
	if notional <= 0 {
		return 0
	}
	q := notional.Div(px)
	if q.Mul(px) > notional {
		q--
	}
	return q
}

// signedQtyFor is qtyFor that keeps a negative headroom negative,
// rounded away from zero so it never overstates the room.
func signedQtyFor(notional, px fixed.Value) fixed.Value {
	if notional >= 0 {
		return qtyFor(notional, px)
	}
	q := (-notional).Div(px)
	if q.Mul(px) < -notional {
		q++
	}
	return -q
}

func (g *Gate) expireOrders(nowNs int64) {
	cut := nowNs - int64(rateWindow)
	for g.n > 0 && g.orders[g.head] <= cut {
		g.head = (g.head + 1) % len(g.orders)
		g.n--
	}
}

// recordOrder counts an approval. Reduce-only approvals are counted too
// but never refused, so a full ring drops its oldest entry.
func (g *Gate) recordOrder(nowNs int64) {
	if g.n == len(g.orders) {
		g.head = (g.head + 1) % len(g.orders)
		g.n--
	}
	g.orders[(g.head+g.n)%len(g.orders)] = nowNs
	g.n++
}

// OrdersInWindow is the number of approvals in the last minute as of the
// last check.
func (g *Gate) OrdersInWindow() int { return g.n }

// PeakEquity is the equity peak the drawdown breaker measures from.
func (g *Gate) PeakEquity() fixed.Value { return g.peakEquity }

// DayStartEquity is the daily-loss breaker's baseline for the current UTC
// day.
func (g *Gate) DayStartEquity() fixed.Value { return g.dayStartEquity }

// Snapshot returns the persistent state.
func (g *Gate) Snapshot() State {
	s := State{
		Kill:           g.breakers[BreakerKill],
		DailyLoss:      g.breakers[BreakerDailyLoss],
		Drawdown:       g.breakers[BreakerDrawdown],
		DayStartEquity: g.dayStartEquity,
		PeakEquity:     g.peakEquity,
		PeakRebased:    g.peakRebased,
	}
	if g.day >= 0 {
		s.Day = time.Unix(g.day*86400, 0).UTC()
	}
	for i := range g.n {
		s.RecentOrders = append(s.RecentOrders, time.Unix(0, g.orders[(g.head+i)%len(g.orders)]).UTC())
	}
	return s
}

// Restore loads a state saved by Snapshot, e.g. after a restart. The
// daily baseline applies only if the next check falls on the same UTC day.
func (g *Gate) Restore(s State) {
	g.breakers[BreakerKill] = s.Kill
	g.breakers[BreakerDailyLoss] = s.DailyLoss
	g.breakers[BreakerDrawdown] = s.Drawdown
	g.day = -1
	if !s.Day.IsZero() {
		g.day = UnixDay(s.Day)
	}
	g.dayStartEquity = s.DayStartEquity
	g.peakEquity, g.peakRebased = s.PeakEquity, s.PeakRebased
	g.lastEquity = s.PeakEquity
	g.head, g.n = 0, 0
	for _, t := range s.RecentOrders {
		g.recordOrder(t.UnixNano())
	}
}
