package strategy

import (
	"strings"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"go.yaml.in/yaml/v3"
)

func TestDefaultParamsValid(t *testing.T) {
	p := DefaultParams()
	for _, name := range []string{NameMeanReversion, NameTrend, NameGrid, NameScripted} {
		if err := p.Validate(name); err != nil {
			t.Errorf("default %s params invalid: %v", name, err)
		}
	}
	if err := DefaultSizing().Validate(); err != nil {
		t.Errorf("default sizing invalid: %v", err)
	}
	if err := p.Validate("nope"); err == nil {
		t.Error("unknown strategy name accepted")
	}
}

func TestZeroParamsInvalid(t *testing.T) {
	var p Params
	for _, name := range []string{NameMeanReversion, NameTrend, NameGrid} {
		if err := p.Validate(name); err == nil {
			t.Errorf("zero %s params accepted", name)
		}
	}
	if err := (Sizing{}).Validate(); err == nil {
		t.Error("zero sizing accepted")
	}
}

func TestValidateNamesField(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		field string
	}{
		{"trend fast>=slow", func() error { p := DefaultTrendParams(); p.FastPeriod = 26; return p.Validate() }(), "strategy.trend.fastPeriod"},
		{"trend interval", func() error { p := DefaultTrendParams(); p.Interval = 0; return p.Validate() }(), "strategy.trend.interval"},
		{"mr exitZ", func() error { p := DefaultMeanReversionParams(); p.ExitZ = p.EntryZ; return p.Validate() }(), "strategy.meanReversion.exitZ"},
		{"mr stopLoss", func() error { p := DefaultMeanReversionParams(); p.StopLoss = fixed.One; return p.Validate() }(), "strategy.meanReversion.stopLoss"},
		{"mr tickWindow", func() error { p := DefaultMeanReversionParams(); p.TickWindow = time.Hour; return p.Validate() }(), "strategy.meanReversion.tickWindow"},
		{"grid spacing", func() error { p := DefaultGridParams(); p.Spacing = 0; return p.Validate() }(), "strategy.grid.spacing"},
		{"grid levels", func() error { p := DefaultGridParams(); p.Levels = 0; return p.Validate() }(), "strategy.grid.levels"},
		{"sizing ratio", Sizing{BaseSizeRatio: 0, Leverage: fixed.One}.Validate(), "baseSizeRatio"},
	}
	for _, tt := range tests {
		if tt.err == nil || !strings.Contains(tt.err.Error(), tt.field) {
			t.Errorf("%s: error %v does not name %s", tt.name, tt.err, tt.field)
		}
	}
}

func TestParamsYAMLRoundTrip(t *testing.T) {
	in := DefaultParams()
	b, err := yaml.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"meanReversion:", "entryZ: \"2\"", "window: 1m0s", "atrMultiplier:", "maxPositionNotional:"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("yaml lacks %q:\n%s", want, b)
		}
	}
	var out Params
	if err := yaml.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Errorf("round trip differs:\n%+v\n%+v", out, in)
	}
	// Overlay on defaults: omitted fields keep defaults.
	out = DefaultParams()
	if err := yaml.Unmarshal([]byte("trend:\n  fastPeriod: 5\n  atrMultiplier: 1.5\n"), &out); err != nil {
		t.Fatal(err)
	}
	if out.Trend.FastPeriod != 5 || out.Trend.ATRMultiplier != fixed.MustParse("1.5") || out.Trend.SlowPeriod != 26 {
		t.Errorf("overlay: %+v", out.Trend)
	}
}
