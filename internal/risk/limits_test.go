package risk

import (
	"strings"
	"testing"

	"github.com/bitrader/bitrader/internal/fixed"
	"go.yaml.in/yaml/v3"
)

func TestLimitsValidate(t *testing.T) {
	if err := DefaultLimits().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	err := Limits{}.Validate()
	if err == nil {
		t.Fatal("zero limits accepted")
	}
	for _, f := range []string{"maxOrderNotional", "maxPositionNotional", "maxTotalNotional", "maxLeverage", "maxOrdersPerMinute", "staleData", "maxDailyLoss", "maxDrawdown"} {
		if !strings.Contains(err.Error(), "risk."+f) {
			t.Errorf("error does not name %s: %v", f, err)
		}
	}
	l := DefaultLimits()
	l.MaxDailyLoss = fixed.One
	if err := l.Validate(); err == nil || !strings.Contains(err.Error(), "risk.maxDailyLoss") {
		t.Errorf("maxDailyLoss=1: %v", err)
	}
}

func TestLimitsYAML(t *testing.T) {
	l := DefaultLimits()
	if err := yaml.Unmarshal([]byte("maxDailyLoss: 0.02\nstaleData: 2s\n"), &l); err != nil {
		t.Fatal(err)
	}
	if l.MaxDailyLoss != fixed.MustParse("0.02") || l.StaleData.String() != "2s" || l.MaxDrawdown != fixed.MustParse("0.15") {
		t.Errorf("got %+v", l)
	}
}
