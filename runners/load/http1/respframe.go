package http1

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
)

// Limits of the response framer. The chunk limits are those of net/http's
// chunked reader, which readResponse uses, so that both read the same
// bodies.
const (
	// maxHeaderSection is the most bytes the header section of one
	// response (status line, header lines and the empty line that ends
	// them) may take; the trailer section of a chunked body has the same
	// limit.
	maxHeaderSection = 64 << 10

	// maxChunkLine bounds a chunk-size line: without its CRLF it must be
	// shorter than this.
	maxChunkLine = 4096

	// maxChunkExcess is the most chunk overhead (size lines and CRLFs
	// beyond 16 bytes plus twice the data of each chunk) a body may carry.
	maxChunkExcess = 16 << 10

	// quoteMax is how much of a bad line an error message quotes.
	quoteMax = 80
)

// frameState is where in a response the next byte fed to a respFramer
// belongs.
type frameState uint8

const (
	frStatus    frameState = iota // the status line
	frHeader                      // a header line, or the empty line ending them
	frBody                        // a body of known length
	frChunkSize                   // a chunk-size line
	frChunkData                   // a chunk's data
	frChunkCR                     // the CR after a chunk's data
	frChunkLF                     // the LF after it
	frTrailer                     // a trailer line, or the empty line ending them
	frToEOF                       // a body that runs to the connection's end
	frDone                        // nothing: the final response has ended
)

// respFramer frames the HTTP/1.x responses of one keep-alive connection
// from its bytes, fed in pieces as they are read: the push counterpart of
// senderConn.readResponse for an event loop, with its rules. It reads the
// status line and the headers that frame the body (Content-Length,
// Transfer-Encoding, Connection), then only counts the body: body bytes are
// never copied. Only a line split across feeds is buffered, in one buffer
// the framer keeps, so that framing costs no allocation once that buffer
// has grown to the longest split line.
//
// The zero respFramer is ready for the response to a request other than
// HEAD. Call reset before each later response.
type respFramer struct {
	line   []byte // the start of a line that continues in the next feed
	state  frameState
	head   bool // the request was a HEAD: no body follows
	fed    bool // a byte of the response has been fed since reset
	keepOK bool // the connection may carry the next request

	code    int
	chunked bool
	length  int64  // the Content-Length, -1 for none
	remain  uint64 // bytes left of the body or of the current chunk
	section int    // bytes of the current header or trailer section so far
	excess  int64  // chunk overhead beyond what the data pays for, as net/http counts it
	err     error  // why the response cannot be framed; sticky until reset
}

// reset prepares for the response to the next request; head says that
// request was a HEAD (no body follows whatever the headers say).
func (f *respFramer) reset(head bool) {
	*f = respFramer{line: f.line[:0], head: head, length: -1}
}

// feed consumes bytes read from the connection. It returns how many of b
// it used and done when a whole final response ended within them
// (informational 1xx responses other than 101 are skipped, as readResponse
// does). Bytes after the end (n < len(b)) are not this response's. err is
// non-nil, wrapping errMalformed, for a response that cannot be framed;
// it stays so until reset. Once done, feed uses nothing and reports done
// until reset.
func (f *respFramer) feed(b []byte) (n int, done bool, err error) {
	if f.err != nil {
		return 0, false, f.err
	}
	if f.state == frDone {
		return 0, true, nil
	}
	if len(b) > 0 {
		f.fed = true
	}
	for n < len(b) {
		switch f.state {
		case frBody, frChunkData:
			k := uint64(len(b) - n)
			if k > f.remain {
				k = f.remain
			}
			n += int(k)
			f.remain -= k
			if f.remain == 0 {
				if f.state == frBody {
					f.state = frDone
					return n, true, nil
				}
				f.state = frChunkCR
			}
		case frChunkCR, frChunkLF:
			want, next := byte('\r'), frChunkLF
			if f.state == frChunkLF {
				want, next = '\n', frChunkSize
			}
			if b[n] != want {
				return n, false, f.fail("chunk data not followed by CRLF (got %q)", b[n:n+1])
			}
			n++
			f.state = next
		case frToEOF:
			return len(b), false, nil
		default: // a line
			rest := b[n:]
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				if err := f.tooLong(len(f.line)+len(rest), rest); err != nil {
					return n, false, err
				}
				f.line = append(f.line, rest...)
				return len(b), false, nil
			}
			line := rest[:i+1]
			if len(f.line) > 0 {
				f.line = append(f.line, line...)
				line = f.line
			}
			n += i + 1
			err := f.takeLine(line)
			f.line = f.line[:0]
			if err != nil {
				return n, false, err
			}
			if f.state == frDone {
				return n, true, nil
			}
		}
	}
	return n, false, nil
}

// eof tells the framer the peer closed the connection: done when that ends
// a body that runs to the connection's end; otherwise err
// (io.ErrUnexpectedEOF, or io.EOF when not one byte of the response had
// arrived).
func (f *respFramer) eof() (done bool, err error) {
	switch {
	case f.err != nil:
		return false, f.err
	case f.state == frDone:
		return true, nil
	case f.state == frToEOF:
		f.state = frDone
		return true, nil
	case !f.fed:
		return false, io.EOF
	}
	return false, io.ErrUnexpectedEOF
}

// status returns the final response's status code, valid once done.
func (f *respFramer) status() int { return f.code }

// keep reports whether the connection may carry the next request: false
// for HTTP/1.0 without Connection: keep-alive, for Connection: close and
// for a body that ran to the connection's end. Valid once done.
func (f *respFramer) keep() bool { return f.keepOK }

// started reports whether any byte of the response has been fed since
// reset.
func (f *respFramer) started() bool { return f.fed }

// tooLong fails the response when a line that has pending bytes so far,
// and no line end yet, is sure to break its state's limit once it ends.
// start is the line's newest bytes, quoted when the buffer is empty.
func (f *respFramer) tooLong(pending int, start []byte) error {
	if len(f.line) > 0 {
		start = f.line
	}
	switch f.state {
	case frChunkSize:
		// The line will hold at least pending+1 bytes, CRLF included.
		if pending-1 >= maxChunkLine {
			return f.fail("chunk size line longer than %d bytes: %s", maxChunkLine, quote(start))
		}
	default:
		if f.section+pending >= maxHeaderSection {
			return f.fail("%s longer than %d bytes, in line %s", f.sectionName(), maxHeaderSection, quote(start))
		}
	}
	return nil
}

// sectionName names the section the framer is in, for errors.
func (f *respFramer) sectionName() string {
	if f.state == frTrailer {
		return "trailer section"
	}
	return "header section"
}

// takeLine takes one whole line, line end included.
func (f *respFramer) takeLine(line []byte) error {
	if f.state == frChunkSize {
		return f.chunkSize(line)
	}
	f.section += len(line)
	if f.section > maxHeaderSection {
		return f.fail("%s longer than %d bytes, in line %s", f.sectionName(), maxHeaderSection, quote(line))
	}
	switch f.state {
	case frStatus:
		return f.statusLine(line)
	case frTrailer:
		if len(trimEOL(line)) == 0 {
			f.state = frDone
		}
		return nil
	}
	line = trimEOL(line)
	if len(line) == 0 {
		f.endHeader()
		return nil
	}
	return f.header(line)
}

// statusLine reads "HTTP/1.1 200 OK", line end included.
func (f *respFramer) statusLine(line []byte) error {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' ||
		!isDigit(line[9]) || !isDigit(line[10]) || !isDigit(line[11]) || line[9] == '0' {
		return f.fail("status line %s", quote(line))
	}
	f.code = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	f.keepOK = line[7] != '0'
	f.chunked = false
	f.length = -1
	f.state = frHeader
	return nil
}

// header reads one header line, its line end trimmed.
func (f *respFramer) header(line []byte) error {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return f.fail("header line %s", quote(line))
	}
	name, value := line[:colon], line[colon+1:]
	switch len(name) { // only three names matter: tell them apart cheaply
	case len("content-length"):
		if equalFold(name, "content-length") {
			n, ok := parseLength(bytes.TrimSpace(value))
			if !ok {
				return f.fail("Content-Length %s", quote(bytes.TrimSpace(value)))
			}
			f.length = n
		}
	case len("transfer-encoding"):
		if equalFold(name, "transfer-encoding") {
			f.chunked = containsFold(value, "chunked")
		}
	case len("connection"):
		if equalFold(name, "connection") {
			if containsFold(value, "close") {
				f.keepOK = false
			} else if containsFold(value, "keep-alive") {
				f.keepOK = true
			}
		}
	}
	return nil
}

// endHeader decides, at the empty line after the headers, what follows.
func (f *respFramer) endHeader() {
	f.section = 0
	switch code := f.code; {
	case code < 200 && code != http.StatusSwitchingProtocols:
		f.state = frStatus // an informational response: the real one follows
	case code == http.StatusSwitchingProtocols:
		// The connection speaks another protocol from here: it ends the
		// exchange and is of no more use to HTTP/1.1.
		f.keepOK = false
		f.state = frDone
	case f.head || code < 200 || code == http.StatusNoContent || code == http.StatusNotModified:
		f.state = frDone
	case f.chunked:
		f.state = frChunkSize
		f.excess = 0
	case f.length == 0:
		f.state = frDone
	case f.length > 0:
		f.state = frBody
		f.remain = uint64(f.length)
	default: // the body runs to the end of the connection
		f.keepOK = false
		f.state = frToEOF
	}
}

// chunkSize reads a chunk-size line, CRLF included, as net/http's chunked
// reader does: CRLF only, hex size, extensions after ';' ignored, and a
// bound on the overhead the size lines add to the data.
func (f *respFramer) chunkSize(line []byte) error {
	switch cr := bytes.IndexByte(line, '\r'); {
	case cr < 0:
		return f.fail("chunk size line %s ends with a bare LF", quote(line))
	case cr != len(line)-2:
		return f.fail("chunk size line %s has a CR inside", quote(line))
	}
	p := line[:len(line)-2]
	if len(p) >= maxChunkLine {
		return f.fail("chunk size line longer than %d bytes: %s", maxChunkLine, quote(p))
	}
	f.excess += int64(len(p)) + 2 // the line, and the CRLF after the data
	for len(p) > 0 && (p[len(p)-1] == ' ' || p[len(p)-1] == '\t') {
		p = p[:len(p)-1]
	}
	if i := bytes.IndexByte(p, ';'); i >= 0 {
		p = p[:i]
	}
	size, ok := parseHex(p)
	if !ok {
		return f.fail("chunk size line %s", quote(line))
	}
	f.excess = max(f.excess-16-2*int64(size), 0)
	if f.excess > maxChunkExcess {
		return f.fail("chunk size lines carry more than %d bytes beyond their data", maxChunkExcess)
	}
	if size == 0 {
		f.state = frTrailer
		f.section = 0
		return nil
	}
	f.state = frChunkData
	f.remain = size
	return nil
}

// fail records that the response cannot be framed and returns the error,
// which wraps errMalformed.
func (f *respFramer) fail(format string, args ...any) error {
	f.err = fmt.Errorf("http1: %w: "+format, append([]any{errMalformed}, args...)...)
	return f.err
}

// quote quotes line, line end trimmed, for an error message: at most
// quoteMax bytes of it, and "..." when there was more.
func quote(line []byte) string {
	line = trimEOL(line)
	if len(line) > quoteMax {
		return fmt.Sprintf("%q...", line[:quoteMax])
	}
	return fmt.Sprintf("%q", line)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseLength parses a Content-Length value as readResponse does, with
// strconv.ParseInt and no negative number, but without making a string:
// an optional sign, then decimal digits; "-0" is 0.
func parseLength(v []byte) (int64, bool) {
	neg := false
	if len(v) > 0 && (v[0] == '+' || v[0] == '-') {
		neg = v[0] == '-'
		v = v[1:]
	}
	if len(v) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if !isDigit(c) {
			return 0, false
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	if neg && n != 0 {
		return 0, false
	}
	return n, true
}

// parseHex parses a chunk size as net/http does: 1 to 16 hex digits.
func parseHex(v []byte) (uint64, bool) {
	if len(v) == 0 || len(v) > 16 {
		return 0, false
	}
	var n uint64
	for _, c := range v {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		n = n<<4 | uint64(c)
	}
	return n, true
}
