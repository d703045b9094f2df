package app

import (
	"testing"

	"github.com/bitrader/bitrader/internal/config"
)

// A dry run and live trading on the same data directory never share a
// journal: paper orders, the paper ledger and its breakers must not carry
// over into real trading (nor the other way round).
func TestJournalPerMode(t *testing.T) {
	cfg := config.Defaults()
	cfg.System.DataDir = "/data"
	cfg.Trading.DryRun = true
	paper := journalPath(cfg)
	cfg.Trading.DryRun = false
	live := journalPath(cfg)
	if paper == live || live != "/data/"+JournalFile || paper != "/data/"+DryRunJournalFile {
		t.Fatalf("dry run %q, live %q: want two files in the data directory", paper, live)
	}
}
