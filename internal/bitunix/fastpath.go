package bitunix

import (
	"bytes"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// The fast path: a hand-rolled scanner for the two frames that arrive many
// times a second per symbol (depth_book* and trade). It accepts only the
// shapes those frames have on the wire, in a subset of what fastjson
// accepts, and reads every field with the same helpers (fixed.ParseBytes,
// timeBytes, sideOf, atoi) as the general decoder. Whenever it meets
// anything else (escapes, unknown or duplicate keys, a field after data,
// a value of another type, a value that fails to parse) it gives up and
// the general decoder decides, errors included. It never reports an error
// of its own, so it cannot change what is rejected or why.

// scan walks a frame; every method leaves i unchanged in meaning on
// failure, since the caller abandons the scan anyway.
type scan struct {
	b []byte
	i int
}

// skipSpace skips the whitespace fastjson skips (space, \t, \n, \r).
func (s *scan) skipSpace() {
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c > ' ' || c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return
		}
		s.i++
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *scan) peek() byte {
	s.skipSpace()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// lit consumes c if it is the next non-space byte.
func (s *scan) lit(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

// str consumes a string without escapes and returns its bytes. fastjson
// does not validate string contents either, so any other byte is taken as
// it is, as fastjson would. A plain loop: the strings here are a few bytes
// long, too short for IndexByte to pay off.
func (s *scan) str() ([]byte, bool) {
	if s.peek() != '"' {
		return nil, false
	}
	start := s.i + 1
	for j := start; j < len(s.b); j++ {
		switch s.b[j] {
		case '"':
			s.i = j + 1
			return s.b[start:j], true
		case '\\':
			return nil, false
		}
	}
	return nil, false
}

// token is the type of a scalar value.
type token uint8

const (
	tokBad token = iota
	tokString
	tokNumber
	tokNull
)

// scalar consumes a string, number or null. A number is the same run of
// [0-9.eE+-] that fastjson takes as a number's raw text (and that
// MarshalTo gives the general decoder back), so parsing it gives the same
// result.
func (s *scan) scalar() (token, []byte) {
	switch c := s.peek(); {
	case c == '"':
		if v, ok := s.str(); ok {
			return tokString, v
		}
	case c == 'n':
		if bytes.HasPrefix(s.b[s.i:], []byte("null")) {
			s.i += 4
			return tokNull, nil
		}
	case c == '-' || c >= '0' && c <= '9':
		j := s.i + 1
		for j < len(s.b) && isNumberByte(s.b[j]) {
			j++
		}
		if c == '-' && j == s.i+1 {
			return tokBad, nil // fastjson would try "-inf"/"-nan" here
		}
		v := s.b[s.i:j]
		s.i = j
		return tokNumber, v
	}
	return tokBad, nil
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'
}

// fixedToken is fixedOf for a scanned scalar: "" and null are zero.
func fixedToken(t token, b []byte) (fixed.Value, bool) {
	switch t {
	case tokNull:
		return 0, true
	case tokString, tokNumber:
		if len(b) == 0 {
			return 0, true
		}
		x, err := fixed.ParseBytes(b)
		return x, err == nil
	}
	return 0, false
}

// Key bits for duplicate detection: fastjson's Get takes the first of
// duplicate keys, which a single pass cannot know, so duplicates defer.
const (
	keyCh = 1 << iota
	keySymbol
	keyTS
	keyData
)

// decodeFast decodes depth_book* and trade frames of the usual shape
// ({"ch", "symbol", "ts", "data"} with data last). ok is false when the
// frame must go to the general decoder; the event may then hold partial
// data, which decodeGeneral overwrites or, on error, does not return.
func (d *PublicDecoder) decodeFast(frame []byte) (*PublicEvent, bool) {
	s := scan{b: frame}
	if !s.lit('{') {
		return nil, false
	}
	var (
		seen   uint8
		kind   Kind
		ch     []byte
		sym    []byte
		hasSym bool
		ts     int64
	)
	for {
		key, ok := s.str()
		if !ok || !s.lit(':') {
			return nil, false
		}
		var bit uint8
		switch string(key) {
		case "ch":
			bit = keyCh
			if ch, ok = s.str(); !ok {
				return nil, false
			}
			switch {
			case bytes.HasPrefix(ch, []byte("depth_book")):
				kind = KindDepth
			case string(ch) == "trade":
				kind = KindTrade
			default:
				return nil, false
			}
		case "symbol":
			bit = keySymbol
			if sym, ok = s.str(); !ok {
				return nil, false
			}
			hasSym = true
		case "ts":
			bit = keyTS
			t, b := s.scalar()
			switch {
			case t == tokNull || t == tokString && len(b) == 0:
				ts = 0
			case t == tokString || t == tokNumber:
				// 1 to 18 digits read the same through intOf's
				// Int64 and ParseInt; anything else defers.
				if ts, ok = atoi(b); !ok {
					return nil, false
				}
			default:
				return nil, false
			}
		case "data":
			if seen&keyCh == 0 || seen&keyData != 0 {
				return nil, false
			}
			return d.fastData(&s, kind, ch, sym, hasSym, ts)
		default:
			return nil, false
		}
		if seen&bit != 0 {
			return nil, false
		}
		seen |= bit
		if !s.lit(',') {
			return nil, false // '}' before data: rare, leave it to the general path
		}
	}
}

// fastData fills the event header as decodeGeneral does (same interning
// order), then decodes data, which must close the frame.
func (d *PublicDecoder) fastData(s *scan, kind Kind, ch, sym []byte, hasSym bool, ts int64) (*PublicEvent, bool) {
	ev := &d.ev
	ev.Kind = kind
	ev.Channel = d.str.get(ch)
	ev.Symbol = ""
	if hasSym {
		ev.Symbol = d.str.get(sym)
	}
	ev.Time = time.Time{}
	if ts > 0 {
		ev.Time = time.UnixMilli(ts).UTC()
	}
	var ok bool
	if kind == KindDepth {
		ok = d.fastDepth(s)
	} else {
		ok = d.fastTrades(s)
	}
	if !ok || !s.lit('}') {
		return nil, false
	}
	s.skipSpace()
	if s.i != len(s.b) {
		return nil, false
	}
	return ev, true
}

// fastDepth decodes {"b":[[p,q],...],"a":[...]} into ev.Book.
func (d *PublicDecoder) fastDepth(s *scan) bool {
	ev := &d.ev
	b := &ev.Book
	b.Symbol, b.Time = ev.Symbol, ev.Time
	b.Bids, b.Asks = b.Bids[:0], b.Asks[:0]
	if !s.lit('{') {
		return false
	}
	if s.lit('}') {
		return true
	}
	var seenB, seenA bool
	for {
		key, ok := s.str()
		if !ok || !s.lit(':') {
			return false
		}
		switch string(key) {
		case "b":
			if seenB {
				return false
			}
			seenB = true
			b.Bids, ok = fastLevels(s, b.Bids)
		case "a":
			if seenA {
				return false
			}
			seenA = true
			b.Asks, ok = fastLevels(s, b.Asks)
		default:
			return false
		}
		if !ok {
			return false
		}
		if s.lit('}') {
			return true
		}
		if !s.lit(',') {
			return false
		}
	}
}

// fastLevels decodes null or [[price, qty], ...]; a level whose price is
// "" or null is skipped, as levels() does.
func fastLevels(s *scan, dst []trading.Level) ([]trading.Level, bool) {
	if s.peek() == 'n' {
		t, _ := s.scalar()
		return dst, t == tokNull
	}
	if !s.lit('[') {
		return dst, false
	}
	if s.lit(']') {
		return dst, true
	}
	for {
		if !s.lit('[') {
			return dst, false
		}
		pt, pb := s.scalar()
		if pt == tokBad || !s.lit(',') {
			return dst, false
		}
		qt, qb := s.scalar()
		if qt == tokBad || !s.lit(']') {
			return dst, false
		}
		if !(pt == tokNull || pt == tokString && len(pb) == 0) {
			px, ok := fixedToken(pt, pb)
			if !ok {
				return dst, false
			}
			qty, ok := fixedToken(qt, qb)
			if !ok {
				return dst, false
			}
			dst = append(dst, trading.Level{Price: px, Qty: qty})
		}
		if s.lit(']') {
			return dst, true
		}
		if !s.lit(',') {
			return dst, false
		}
	}
}

// fastTrades decodes null, one trade object or a list of them into
// ev.Trades.
func (d *PublicDecoder) fastTrades(s *scan) bool {
	ev := &d.ev
	ev.Trades = ev.Trades[:0]
	switch s.peek() {
	case 'n':
		t, _ := s.scalar()
		return t == tokNull
	case '{':
		return d.fastTrade(s)
	case '[':
		s.i++
		if s.lit(']') {
			return true
		}
		for {
			if !d.fastTrade(s) {
				return false
			}
			if s.lit(']') {
				return true
			}
			if !s.lit(',') {
				return false
			}
		}
	}
	return false
}

// fastTrade decodes one {"p","v","s","t"} object and appends it.
func (d *PublicDecoder) fastTrade(s *scan) bool {
	ev := &d.ev
	if !s.lit('{') {
		return false
	}
	t := trading.Trade{Symbol: ev.Symbol}
	if !s.lit('}') {
		var seen uint8
		for {
			key, ok := s.str()
			if !ok || !s.lit(':') || len(key) != 1 {
				return false
			}
			var bit uint8
			switch key[0] {
			case 'p':
				bit = 1
				tk, b := s.scalar()
				t.Price, ok = fixedToken(tk, b)
			case 'v':
				bit = 2
				tk, b := s.scalar()
				t.Qty, ok = fixedToken(tk, b)
			case 's':
				bit = 4
				switch tk, b := s.scalar(); tk {
				case tokString:
					t.Side = sideOf(b)
				case tokNull:
				default:
					ok = false
				}
			case 't':
				bit = 8
				switch tk, b := s.scalar(); tk {
				case tokString, tokNumber:
					var err error
					t.Time, err = timeBytes(b)
					ok = err == nil
				case tokNull:
				default:
					ok = false
				}
			default:
				return false
			}
			if !ok || seen&bit != 0 {
				return false
			}
			seen |= bit
			if s.lit('}') {
				break
			}
			if !s.lit(',') {
				return false
			}
		}
	}
	if t.Time.IsZero() {
		t.Time = ev.Time
	}
	ev.Trades = append(ev.Trades, t)
	return true
}
