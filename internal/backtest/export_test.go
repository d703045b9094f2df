package backtest

// WriteTradesCSV is writeTradesCSV for the external test package.
var WriteTradesCSV = writeTradesCSV
