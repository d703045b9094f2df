package trading

import "testing"

func TestParseSpellings(t *testing.T) {
	sides := map[string]Side{"BUY": Buy, "Buy": Buy, "long": Buy, "SELL": Sell, "Sell": Sell, "SHORT": Sell}
	for in, want := range sides {
		if got, err := ParseSide(in); err != nil || got != want {
			t.Errorf("ParseSide(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseSide("up"); err == nil {
		t.Error("ParseSide accepted \"up\"")
	}
	statuses := map[string]OrderStatus{
		"INIT": StatusNew, "NEW": StatusNew, "NEW_": StatusNew, "PART_FILLED": StatusPartiallyFilled,
		"FILLED": StatusFilled, "CANCELED": StatusCanceled, "PART_FILLED_CANCELED": StatusCanceled,
		"SYSTEM_CANCELED": StatusCanceled, "EXPIRED": StatusExpired, "FAILED": StatusRejected,
	}
	for in, want := range statuses {
		if got, err := ParseOrderStatus(in); err != nil || got != want {
			t.Errorf("ParseOrderStatus(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseOrderStatus("DONE"); err == nil {
		t.Error("ParseOrderStatus accepted DONE")
	}
	tifs := map[string]TimeInForce{"": GTC, "gtc": GTC, "IOC": IOC, "FOK": FOK, "POST_ONLY": PostOnly}
	for in, want := range tifs {
		if got, err := ParseTimeInForce(in); err != nil || got != want {
			t.Errorf("ParseTimeInForce(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if got, err := ParseOrderType("Limit"); err != nil || got != Limit {
		t.Errorf("ParseOrderType(Limit) = %v, %v", got, err)
	}
}

func TestFinalAndStrings(t *testing.T) {
	for s, final := range map[OrderStatus]bool{StatusPending: false, StatusNew: false, StatusPartiallyFilled: false,
		StatusFilled: true, StatusCanceled: true, StatusRejected: true, StatusExpired: true} {
		if s.Final() != final {
			t.Errorf("%v.Final() = %v", s, !final)
		}
	}
	if Buy.String() != "BUY" || Sell.Opposite() != Buy || PostOnly.String() != "POST_ONLY" || Market.String() != "MARKET" {
		t.Error("wire spellings changed")
	}
}
