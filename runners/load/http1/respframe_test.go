package http1

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
)

// framed is one final response as a framer or net/http saw it.
type framed struct {
	status int
	keep   bool
	end    int // the offset just past the response in the input

	// Set by stdFrames only.
	toEOF   bool // net/http read the body to the end of the input
	differs bool // the response uses a rule where readResponse deliberately differs from net/http
}

func (r framed) String() string {
	return fmt.Sprintf("{status %d keep %v end %d}", r.status, r.keep, r.end)
}

// stdFrames frames raw with http.ReadResponse, reading each body to its
// end and skipping 1xx responses other than 101, response after response
// while the connection may be kept.
func stdFrames(raw []byte, head bool) ([]framed, error) {
	rd := bytes.NewReader(raw)
	br := bufio.NewReaderSize(rd, 16<<10) // readResponse's size
	at := func() int { return len(raw) - rd.Len() - br.Buffered() }
	req := &http.Request{Method: http.MethodGet}
	if head {
		req.Method = http.MethodHead
	}
	var out []framed
	for at() < len(raw) {
		var (
			resp    *http.Response
			differs bool
		)
		for {
			start := at()
			var err error
			resp, err = http.ReadResponse(br, req)
			if err != nil {
				return out, err
			}
			differs = differs || rulesDiffer(raw[start:], resp)
			if resp.StatusCode < 100 || resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
				break
			}
		}
		toEOF := !head && resp.ContentLength < 0 && resp.TransferEncoding == nil &&
			resp.StatusCode >= 200 && resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusNotModified
		_, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return out, err
		}
		// After 101 the connection speaks another protocol: the framer
		// gives it up, where net/http hands it to the caller.
		keep := !resp.Close && resp.StatusCode != http.StatusSwitchingProtocols
		out = append(out, framed{status: resp.StatusCode, keep: keep, end: at(), toEOF: toEOF, differs: differs})
		if !keep {
			break
		}
	}
	return out, nil
}

// rulesDiffer reports whether the response at the start of raw, which
// net/http read as resp, uses a case where readResponse's rules
// deliberately differ from net/http's: a status code below 100, spaces
// before the code, a protocol other than HTTP/1.x, a header line folded
// onto the previous one or with an empty name (net/http joins or skips
// them; readResponse rejects or ignores them), or Transfer-Encoding in an
// HTTP/1.0 response (net/http ignores it).
func rulesDiffer(raw []byte, resp *http.Response) bool {
	if resp.StatusCode < 100 || resp.ProtoMajor != 1 {
		return true
	}
	first := true
	for len(raw) > 0 {
		i := bytes.IndexByte(raw, '\n')
		if i < 0 {
			return false
		}
		line := trimEOL(raw[:i+1])
		raw = raw[i+1:]
		switch {
		case first:
			if len(line) > 9 && line[9] == ' ' {
				return true
			}
			first = false
		case len(line) == 0:
			return false
		case line[0] == ' ' || line[0] == '\t' || line[0] == ':':
			return true
		case resp.ProtoMinor == 0 && len(line) >= 18 && equalFold(line[:18], "transfer-encoding:"):
			return true
		}
	}
	return false
}

// framerFrames feeds raw to f in pieces of the sizes piece returns (given
// how many bytes are left), resetting it for every response, and lists the
// responses it framed.
func framerFrames(f *respFramer, raw []byte, head bool, piece func(left int) int) ([]framed, error) {
	f.reset(head)
	var out []framed
	off := 0
	for off < len(raw) {
		p := raw[off : off+min(max(piece(len(raw)-off), 1), len(raw)-off)]
		for len(p) > 0 {
			n, done, err := f.feed(p)
			if err != nil {
				return out, err
			}
			if n < 0 || n > len(p) || !done && n != len(p) {
				return out, fmt.Errorf("feed used %d of %d bytes (done %v)", n, len(p), done)
			}
			p = p[n:]
			off += n
			if done {
				out = append(out, framed{status: f.status(), keep: f.keep(), end: off})
				if !f.keep() {
					return out, nil
				}
				f.reset(head)
			}
		}
	}
	switch done, err := f.eof(); {
	case done:
		out = append(out, framed{status: f.status(), keep: f.keep(), end: off})
	case err != io.EOF:
		return out, err
	}
	return out, nil
}

// Piece sizes.
func whole(left int) int { return left }
func bytewise(int) int   { return 1 }

// splitAt cuts the input once, at i.
func splitAt(i int) func(int) int {
	first := true
	return func(left int) int {
		if first {
			first = false
			return i
		}
		return left
	}
}

// randomPieces returns pieces of random sizes below limit.
func randomPieces(r *rand.Rand, limit int) func(int) int {
	return func(int) int { return 1 + r.IntN(limit) }
}

// sameFrames compares the responses a framer framed with net/http's.
func sameFrames(got, want []framed) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].status != want[i].status || got[i].keep != want[i].keep || got[i].end != want[i].end {
			return false
		}
	}
	return true
}

// chunkedBody returns body in chunked encoding, in chunks of size bytes.
func chunkedBody(body string, size int) string {
	var b strings.Builder
	for len(body) > 0 {
		n := min(size, len(body))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, body[:n])
		body = body[n:]
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

var framerCases = []struct {
	name string
	raw  string
	head bool
}{
	{"content-length", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello", false},
	{"zero length", "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", false},
	{"no reason", "HTTP/1.1 404\r\nContent-Length: 2\r\n\r\nno", false},
	{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 3\nX-A: b\n\nabc", false},
	{"header case", "HTTP/1.1 500 Internal Server Error\r\ncontent-LENGTH:  4 \r\nCONNECTION: Keep-Alive\r\n\r\noops", false},
	{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedBody("hello, world", 5), false},
	{"chunked extensions trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\nTrailer: X-Sum\r\n\r\n" +
		"5;name=val\r\nhello\r\n7;q=\"a b\";x\r\n world!\r\nA \t\r\n0123456789\r\n0;last\r\nX-Sum: 42\r\nX-Other: b\r\n\r\n", false},
	{"chunked bare LF trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\n" +
		"HTTP/1.1 204 No Content\r\n\r\n", false}, // net/http wants a CRLFCRLF ahead
	{"chunked wins over length", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedBody("abcdefgh", 3), false},
	{"informational", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false},
	{"informational head", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", true},
	{"switching protocols", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", false},
	{"no content", "HTTP/1.1 204 No Content\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\n", false},
	{"not modified", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nETag: \"x\"\r\n\r\n", false},
	{"head with length", "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", true},
	{"head chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true},
	{"http/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc", false},
	{"http/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc", false},
	{"connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc", false},
	{"close-delimited", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nthe body runs to the end", false},
	{"close-delimited empty", "HTTP/1.1 200 OK\r\n\r\n", false},
	{"http/1.0 close-delimited", "HTTP/1.0 200 OK\r\n\r\nold school", false},
	{"pipelined", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst" +
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedBody("second", 4) +
		"HTTP/1.1 204 No Content\r\n\r\n", false},
	{"pipelined head", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 7\r\n\r\n", true},
	{"large", "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + strings.Repeat("0123456789", 10000), false},
	{"large chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedBody(strings.Repeat("abcdefghij", 10000), 8000), false},
}

// TestRespFramer checks the framer against net/http on well-formed
// responses fed whole, byte by byte, cut at every byte and in random
// pieces.
func TestRespFramer(t *testing.T) {
	var f respFramer
	for _, tc := range framerCases {
		t.Run(tc.name, func(t *testing.T) {
			raw := []byte(tc.raw)
			want, err := stdFrames(raw, tc.head)
			if err != nil {
				t.Fatalf("net/http: %v", err)
			}
			if len(want) == 0 {
				t.Fatal("net/http framed no response")
			}
			check := func(how string, piece func(int) int) bool {
				t.Helper()
				got, err := framerFrames(&f, raw, tc.head, piece)
				if err != nil || !sameFrames(got, want) {
					t.Errorf("%s: framed %v, %v; net/http %v", how, got, err, want)
					return false
				}
				return true
			}
			check("whole", whole)
			check("byte by byte", bytewise)
			for i := 1; i < len(raw); i++ {
				if !check(fmt.Sprintf("cut at %d", i), splitAt(i)) {
					break
				}
			}
			r := rand.New(rand.NewPCG(1, uint64(len(raw))))
			for _, limit := range []int{3, 17, 200, 5000} {
				for range 20 {
					if !check(fmt.Sprintf("random pieces below %d", limit), randomPieces(r, limit)) {
						break
					}
				}
			}
		})
	}
}

// TestRespFramerMalformed checks that what cannot be framed is an error
// wrapping errMalformed that says what was wrong, fed whole or byte by
// byte.
func TestRespFramerMalformed(t *testing.T) {
	const ok = "HTTP/1.1 200 OK\r\n"
	pad := func(n int) string { return "X-Pad: " + strings.Repeat("p", n) + "\r\n" }
	cases := []struct {
		name, raw, want string
	}{
		{"not http", "SSH-2.0-OpenSSH_9.6\r\n", `status line "SSH-2.0-OpenSSH_9.6"`},
		{"http/2", "HTTP/2 200 OK\r\n", "status line"},
		{"short", "HTTP/1.1 20\r\n", "status line"},
		{"letters", "HTTP/1.1 2x0 OK\r\n", "status line"},
		{"below 100", "HTTP/1.1 099 Low\r\n", "status line"},
		{"no space", "HTTP/1.1200 OK\r\n", "status line"},
		{"long status line", "HTTP/1.1 xyz " + strings.Repeat("r", 500) + "\r\n", "..."},
		{"no colon", ok + "NoColon\r\n\r\n", `header line "NoColon"`},
		{"empty name", ok + ": x\r\n\r\n", "header line"},
		{"length letters", ok + "Content-Length: ten\r\n\r\n", `Content-Length "ten"`},
		{"length negative", ok + "Content-Length: -1\r\n\r\n", "Content-Length"},
		{"length empty", ok + "Content-Length:\r\n\r\n", "Content-Length"},
		{"length overflow", ok + "Content-Length: 9223372036854775808\r\n\r\n", "Content-Length"},
		{"length on 204", "HTTP/1.1 204 No Content\r\nContent-Length: x\r\n\r\n", "Content-Length"},
		{"chunk size letters", ok + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", `chunk size line "zz"`},
		{"chunk size empty", ok + "Transfer-Encoding: chunked\r\n\r\n\r\n", "chunk size line"},
		{"chunk size space before ext", ok + "Transfer-Encoding: chunked\r\n\r\n5 ;x\r\nhello\r\n", "chunk size line"},
		{"chunk size bare LF", ok + "Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", "bare LF"},
		{"chunk size CR inside", ok + "Transfer-Encoding: chunked\r\n\r\n5\r;x\r\nhello\r\n", "CR inside"},
		{"chunk size 17 digits", ok + "Transfer-Encoding: chunked\r\n\r\n00000000000000001\r\nx\r\n", "chunk size line"},
		{"chunk size line too long", ok + "Transfer-Encoding: chunked\r\n\r\n1;" + strings.Repeat("e", 5000) + "\r\nx\r\n", "longer than 4096"},
		{"chunk without CRLF", ok + "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n", "not followed by CRLF"},
		{"chunk overhead", ok + "Transfer-Encoding: chunked\r\n\r\n" + strings.Repeat("1;"+strings.Repeat("e", 200)+"\r\nx\r\n", 100), "beyond their data"},
		{"header section", ok + strings.Repeat(pad(1000), 66) + "\r\n", "header section longer than 65536"},
		{"header line without end", ok + "X-Big: " + strings.Repeat("b", 70000), "header section longer than 65536"},
		{"trailer section", ok + "Transfer-Encoding: chunked\r\n\r\n0\r\n" + strings.Repeat(pad(1000), 66) + "\r\n", "trailer section longer"},
		{"informational then junk", "HTTP/1.1 100 Continue\r\n\r\njunk\r\n", `status line "junk"`},
	}
	var f respFramer
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range []struct {
				how   string
				piece func(int) int
			}{{"whole", whole}, {"byte by byte", bytewise}} {
				got, err := framerFrames(&f, []byte(tc.raw), false, p.piece)
				if !errors.Is(err, errMalformed) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: framed %v, error %v; want an error wrapping errMalformed with %q", p.how, got, err, tc.want)
					continue
				}
				if len(err.Error()) > 200 {
					t.Errorf("%s: error of %d bytes, want a short quote: %.300s", p.how, len(err.Error()), err)
				}
				if _, again, err2 := f.feed([]byte("\r\n")); again || err2 != err {
					t.Errorf("%s: feed after the error gave %v, %v; want the same error", p.how, again, err2)
				}
			}
		})
	}
}

// TestRespFramerHeaderLimit checks the header section limit to the byte.
func TestRespFramerHeaderLimit(t *testing.T) {
	const head = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
	section := func(size int) []byte {
		padding := size - len(head) - len("X-Pad: \r\n") - len("\r\n")
		return []byte(head + "X-Pad: " + strings.Repeat("p", padding) + "\r\n\r\n")
	}
	var f respFramer
	for _, tc := range []struct {
		size int
		ok   bool
	}{{maxHeaderSection - 1, true}, {maxHeaderSection, true}, {maxHeaderSection + 1, false}} {
		raw := section(tc.size)
		for _, p := range []func(int) int{whole, bytewise, splitAt(len(raw) - 1), splitAt(len(raw) - 2)} {
			got, err := framerFrames(&f, raw, false, p)
			if tc.ok && (err != nil || len(got) != 1 || got[0].end != tc.size) {
				t.Errorf("section of %d bytes: framed %v, %v; want it whole", tc.size, got, err)
			}
			if !tc.ok && !errors.Is(err, errMalformed) {
				t.Errorf("section of %d bytes: framed %v, %v; want errMalformed", tc.size, got, err)
			}
		}
	}
}

// TestRespFramerUnfinishedLine checks that a header line without its end
// fails as soon as it is sure to break the limit, and not before.
func TestRespFramerUnfinishedLine(t *testing.T) {
	const head = "HTTP/1.1 200 OK\r\nX-Big: "
	for _, tc := range []struct {
		size int
		ok   bool
	}{{maxHeaderSection - 1, true}, {maxHeaderSection, false}} {
		raw := []byte(head + strings.Repeat("b", tc.size-len(head)))
		var f respFramer
		n, done, err := f.feed(raw[:100])
		if n != 100 || done || err != nil {
			t.Fatalf("feed gave %d, %v, %v", n, done, err)
		}
		n, done, err = f.feed(raw[100:])
		if tc.ok && (n != len(raw)-100 || done || err != nil) {
			t.Errorf("%d bytes without a line end: feed gave %d, %v, %v; want all used", tc.size, n, done, err)
		}
		if !tc.ok && !errors.Is(err, errMalformed) {
			t.Errorf("%d bytes without a line end: feed gave %d, %v, %v; want errMalformed", tc.size, n, done, err)
		}
		if cap(f.line) > 2*maxHeaderSection {
			t.Errorf("line buffer grew to %d bytes", cap(f.line))
		}
	}
}

// TestRespFramerReadResponseRules pins the cases where the framer follows
// readResponse rather than net/http.
func TestRespFramerReadResponseRules(t *testing.T) {
	const ok = "HTTP/1.1 200 OK\r\n"
	cases := []struct {
		name      string
		raw       string
		status    int
		keep      bool
		end       int // -1: the whole input
		malformed bool
	}{
		{"status below 100", "HTTP/1.1 099 Low\r\n\r\n", 0, false, 0, true},
		{"spaces before the code", "HTTP/1.1  200 OK\r\n\r\n", 0, false, 0, true},
		{"folded header line", ok + "X-A: a\r\n folded\r\nContent-Length: 0\r\n\r\n", 0, false, 0, true},
		{"close then keep-alive", ok + "Connection: close\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", 200, true, -1, false},
		{"close as a substring", ok + "Connection: closed\r\nContent-Length: 0\r\n\r\n", 200, false, -1, false},
		{"plus sign", ok + "Content-Length: +2\r\n\r\nab", 200, true, -1, false},
		{"chunked among encodings", ok + "Transfer-Encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", 200, true, -1, false},
		{"chunked in HTTP/1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n1\r\nx\r\n0\r\n\r\n", 200, false, -1, false},
		{"101 ends the connection's HTTP", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\nnot http", 101, false, len("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n"), false},
	}
	for _, tc := range cases {
		var f respFramer
		n, done, err := f.feed([]byte(tc.raw))
		if tc.malformed {
			if !errors.Is(err, errMalformed) {
				t.Errorf("%s: feed gave %d, %v, %v; want errMalformed", tc.name, n, done, err)
			}
			continue
		}
		end := tc.end
		if end < 0 {
			end = len(tc.raw)
		}
		if err != nil || !done || n != end || f.status() != tc.status || f.keep() != tc.keep {
			t.Errorf("%s: feed gave %d, %v, %v, status %d keep %v; want %d, true, nil, status %d keep %v",
				tc.name, n, done, err, f.status(), f.keep(), end, tc.status, tc.keep)
		}
	}
}

// TestRespFramerEOF checks what the end of the connection means at each
// point of a response.
func TestRespFramerEOF(t *testing.T) {
	cases := []struct {
		name   string
		raw    string
		done   bool
		err    error
		status int
	}{
		{"nothing", "", false, io.EOF, 0},
		{"status line", "HTTP/1.1 2", false, io.ErrUnexpectedEOF, 0},
		{"headers", "HTTP/1.1 200 OK\r\nContent-Le", false, io.ErrUnexpectedEOF, 0},
		{"before the empty line", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n", false, io.ErrUnexpectedEOF, 0},
		{"body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", false, io.ErrUnexpectedEOF, 0},
		{"chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", false, io.ErrUnexpectedEOF, 0},
		{"chunk CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r", false, io.ErrUnexpectedEOF, 0},
		{"trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", false, io.ErrUnexpectedEOF, 0},
		{"after informational", "HTTP/1.1 100 Continue\r\n\r\n", false, io.ErrUnexpectedEOF, 0},
		{"close-delimited", "HTTP/1.1 200 OK\r\n\r\nhello", true, nil, 200},
		{"close-delimited empty", "HTTP/1.0 203 Whatever\r\n\r\n", true, nil, 203},
	}
	var f respFramer
	for _, tc := range cases {
		for _, p := range []func(int) int{whole, bytewise} {
			f.reset(false)
			for raw := []byte(tc.raw); len(raw) > 0; {
				k := p(len(raw))
				n, done, err := f.feed(raw[:k])
				if done || err != nil || n != k {
					t.Fatalf("%s: feed gave %d, %v, %v", tc.name, n, done, err)
				}
				raw = raw[k:]
			}
			if got := f.started(); got != (tc.raw != "") {
				t.Errorf("%s: started %v", tc.name, got)
			}
			done, err := f.eof()
			if done != tc.done || err != tc.err {
				t.Errorf("%s: eof gave %v, %v; want %v, %v", tc.name, done, err, tc.done, tc.err)
			}
			if done && (f.status() != tc.status || f.keep()) {
				t.Errorf("%s: status %d keep %v; want %d false", tc.name, f.status(), f.keep(), tc.status)
			}
		}
	}
}

// TestRespFramerReuse checks the calls around a response: started, feed
// after done, and reset.
func TestRespFramerReuse(t *testing.T) {
	var f respFramer
	if f.started() {
		t.Error("zero framer started")
	}
	if n, done, err := f.feed(nil); n != 0 || done || err != nil || f.started() {
		t.Errorf("feed(nil) gave %d, %v, %v, started %v", n, done, err, f.started())
	}
	raw := []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1")
	n, done, err := f.feed(raw)
	if n != len(raw)-len("HTTP/1.1") || !done || err != nil || !f.started() || f.status() != 200 || !f.keep() {
		t.Fatalf("feed gave %d, %v, %v, started %v status %d keep %v", n, done, err, f.started(), f.status(), f.keep())
	}
	if n, done, err := f.feed(raw[n:]); n != 0 || !done || err != nil {
		t.Errorf("feed after done gave %d, %v, %v; want 0, true, nil", n, done, err)
	}
	if done, err := f.eof(); !done || err != nil {
		t.Errorf("eof after done gave %v, %v; want true, nil", done, err)
	}
	f.reset(true)
	if f.started() {
		t.Error("started after reset")
	}
	if done, err := f.eof(); done || err != io.EOF {
		t.Errorf("eof after reset gave %v, %v; want false, io.EOF", done, err)
	}
}

// TestRespFramerAllocs checks that framing allocates nothing once the
// line buffer has grown: whole, and with lines cut across feeds.
func TestRespFramerAllocs(t *testing.T) {
	raw := []byte(benchResponse)
	chunked := []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedBody(strings.Repeat("x", 100), 30))
	var f respFramer
	for _, tc := range []struct {
		name string
		raw  []byte
		cuts []int // where to cut raw, its length last
	}{
		{"whole", raw, []int{len(raw)}},
		{"cut lines", raw, []int{5, 20, 40, 80, len(raw)}},
		{"chunked cut", chunked, []int{3, 50, 52, 60, len(chunked)}},
	} {
		allocs := testing.AllocsPerRun(100, func() {
			f.reset(false)
			prev := 0
			for _, c := range tc.cuts {
				if _, _, err := f.feed(tc.raw[prev:c]); err != nil {
					t.Fatal(err)
				}
				prev = c
			}
		})
		if allocs != 0 || f.status() != 200 {
			t.Errorf("%s: %v allocations per response (status %d), want 0", tc.name, allocs, f.status())
		}
	}
}

// benchResponse is a typical small response.
const benchResponse = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n" +
	"Content-Length: 27\r\n\r\n{\"id\":12345,\"status\":\"ok\"}\n"

// BenchmarkRespFramer frames a typical ~150-byte response fed in one
// piece, and a chunked one.
func BenchmarkRespFramer(b *testing.B) {
	for _, bc := range []struct {
		name string
		raw  []byte
	}{
		{"length", []byte(benchResponse)},
		{"chunked", []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
			chunkedBody(`{"id":12345,"status":"ok"}`+"\n", 16))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var f respFramer
			b.SetBytes(int64(len(bc.raw)))
			b.ReportAllocs()
			for b.Loop() {
				f.reset(false)
				if n, done, err := f.feed(bc.raw); !done || err != nil || n != len(bc.raw) {
					b.Fatalf("feed gave %d, %v, %v", n, done, err)
				}
			}
		})
	}
}

// FuzzRespFramer checks the framer against net/http on whatever net/http
// frames, and that how the bytes are cut changes nothing.
func FuzzRespFramer(f *testing.F) {
	for _, tc := range framerCases {
		if len(tc.raw) < 4096 {
			f.Add([]byte(tc.raw), tc.head, uint16(len(tc.raw)/2))
		}
	}
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b\r\nabc\r\n0\r\nX: y\r\n\r\n"), false, uint16(30))
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"), false, uint16(7))
	f.Add([]byte("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi"), true, uint16(1))
	f.Fuzz(func(t *testing.T, raw []byte, head bool, cut uint16) {
		if len(raw) > maxHeaderSection {
			return
		}
		var fr respFramer
		got, err := framerFrames(&fr, raw, head, whole)
		for _, p := range []func(int) int{bytewise, splitAt(int(cut) % (len(raw) + 1))} {
			got2, err2 := framerFrames(&fr, raw, head, p)
			if !sameFrames(got2, got) || (err == nil) != (err2 == nil) || errors.Is(err, errMalformed) != errors.Is(err2, errMalformed) {
				t.Fatalf("cut otherwise: framed %v, %v; whole %v, %v", got2, err2, got, err)
			}
		}
		if err != nil && err != io.ErrUnexpectedEOF && !errors.Is(err, errMalformed) {
			t.Fatalf("error %v is neither malformed nor unexpected EOF", err)
		}
		want, _ := stdFrames(raw, head)
		for i, w := range want {
			if w.differs || w.toEOF {
				break
			}
			if i >= len(got) || got[i].status != w.status || got[i].end != w.end {
				t.Fatalf("response %d: net/http %v; framer %v, %v", i, w, got, err)
			}
			if got[i].keep != w.keep {
				break // readResponse reads Connection otherwise: what follows is framed differently
			}
		}
	})
}
