package target

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// FieldError is a rejected request: the HTTP status, the request field at
// fault (a JSON field, query parameter or header name; "body" for the
// request as a whole) and a message saying what to send instead. It is
// written to the client as {"error": Code, "field": Field, "message": …}.
type FieldError struct {
	Status  int    // HTTP status code, 400 unless said otherwise
	Code    string // machine-readable: invalid_input, not_found, payload_too_large, insufficient_evidence
	Field   string
	Message string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// fieldErrorf returns a 400 invalid_input error for field.
func fieldErrorf(field, format string, args ...any) *FieldError {
	return &FieldError{Status: http.StatusBadRequest, Code: "invalid_input", Field: field, Message: fmt.Sprintf(format, args...)}
}

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error   string `json:"error"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// writeError writes err as a JSON error response. Errors that are not a
// *FieldError are internal: 500 without details.
func writeError(w http.ResponseWriter, err error) {
	var fe *FieldError
	if !errors.As(err, &fe) {
		fe = &FieldError{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"}
	}
	writeJSON(w, fe.Status, errorBody{Error: fe.Code, Field: fe.Field, Message: fe.Error()})
}

// writeJSON writes v as the JSON response body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"internal","message":"cannot encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
