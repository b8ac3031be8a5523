package testserver

import (
	"fmt"
	"io"
	"net/http"
	"strings"
)

// What a server answers while it starts (server.Start), byte for byte: the
// tests of the server's front and of `casegraph serve` compare with these.
const (
	StartingError     = `{"errors":[{"message":"The server is starting; nothing of this request was done. Retry after the time in Retry-After.","extensions":{"code":"UNAVAILABLE"}}]}`
	StartingReadiness = `{"server":"starting","status":"unavailable"}` + "\n"
)

// Answer is one HTTP answer, read whole, for tests that compare its bytes.
type Answer struct {
	Status int
	Header http.Header
	Body   string
}

func (a Answer) String() string {
	return fmt.Sprintf("%d Content-Type=%q Retry-After=%q Allow=%q %q", a.Status, a.Header.Get("Content-Type"), a.Header.Get("Retry-After"), a.Header.Get("Allow"), a.Body)
}

// Exchange sends one request with the given headers and body and reads its
// answer whole.
func Exchange(client *http.Client, method, url string, header map[string]string, body string) (Answer, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return Answer{}, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		return Answer{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return Answer{Status: res.StatusCode, Header: res.Header, Body: string(raw)}, err
}
