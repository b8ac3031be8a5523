package apperr

import (
	"encoding/json"
	"net/http"
)

// WriteHTTP answers a request that never reaches GraphQL (refused
// authentication, a body too large, a rate limit, an outage) with a GraphQL
// error response, so clients handle it like any other: one error with
// extensions.code and, for INTERNAL and UNAVAILABLE, the request id a person
// can quote.
func WriteHTTP(w http.ResponseWriter, status int, code Code, message, requestID string) {
	e := httpError{Message: message}
	e.Extensions.Code = code
	if code == Internal || code == Unavailable || code == AuditUnavailable {
		e.Extensions.RequestID = requestID
	}
	body, err := json.Marshal(httpResponse{Errors: []httpError{e}})
	if err != nil {
		// Cannot happen: the value holds only strings.
		panic(err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// httpResponse is a GraphQL response that carries only errors, fields in the
// order the GraphQL spec shows them.
type httpResponse struct {
	Errors []httpError `json:"errors"`
}

type httpError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code      Code   `json:"code"`
		RequestID string `json:"requestId,omitempty"`
	} `json:"extensions"`
}
