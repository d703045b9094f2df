package sim

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// apiError is a Bitunix business error: HTTP 200 with a non-zero code.
type apiError struct {
	Code int
	Msg  string
}

func (e *apiError) Error() string { return strconv.Itoa(e.Code) + " " + e.Msg }

func errf(code int, msg string) *apiError { return &apiError{Code: code, Msg: msg} }

// Error texts. Where a wire capture exists (§3) it is used verbatim;
// otherwise the doc table's wording.
var (
	errNotFound       = errf(404, "Not Found")
	errNetwork        = errf(1, "Network Error") // observed for a missing required parameter
	errAPIKeyEmpty    = errf(10003, "api-key can't be empty")
	errTooMany        = errf(10005, "Too many requests")
	errTooFrequent    = errf(10006, "Request too frequently")
	errSignature      = errf(10007, "Signature Error")
	errSymbolNotFound = errf(20015, "this Futures is not allowed to trade.")
	errParam          = errf(10002, "Parameter error")
)

// errEnum is 10008 in the observed shape:
// Parameter 20 does not match, alternative value ["1","5","15","50","max"].
func errEnum(value string, allowed []string) *apiError {
	alt, _ := json.Marshal(allowed)
	return errf(10008, "Parameter "+value+" does not match, alternative value "+string(alt)+".")
}

// envelope is the REST response wrapper; field order matches the wire.
type envelope struct {
	Code int    `json:"code"`
	Data any    `json:"data"`
	Msg  string `json:"msg"`
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"code":10001,"data":null,"msg":"Network Error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK) // business errors are HTTP 200 too
	_, _ = w.Write(b)
}

func writeOK(w http.ResponseWriter, data any) {
	writeJSON(w, envelope{Code: 0, Data: data, Msg: "Success"})
}

func writeErr(w http.ResponseWriter, e *apiError) {
	writeJSON(w, envelope{Code: e.Code, Data: nil, Msg: e.Msg})
}
