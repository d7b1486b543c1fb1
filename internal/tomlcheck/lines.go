package tomlcheck

import (
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Lines maps every key and table of a TOML document (as
// toml.Key.String()) to the 1-based line where it first appears.
//
// BurntSushi/toml keeps key positions private, so this is a small scanner
// that knows just enough TOML to find keys: table headers, dotted and quoted
// keys, inline tables (keys inside them get the inline table's line), arrays
// and all four string forms (so '#', '=' or '[' inside a value never look
// like structure). It is only run on text the real parser accepted; on
// anything stranger it returns fewer entries, never panics, and always ends.
func Lines(src string) map[string]int {
	s := &lineScanner{src: src, line: 1, out: map[string]int{}}
	s.document()
	return s.out
}

type lineScanner struct {
	src  string
	i    int
	line int
	out  map[string]int
}

func (s *lineScanner) eof() bool { return s.i >= len(s.src) }

func (s *lineScanner) peek() byte {
	if s.eof() {
		return 0
	}
	return s.src[s.i]
}

func (s *lineScanner) record(path []string) {
	if len(path) == 0 {
		return
	}
	k := toml.Key(path).String()
	if _, ok := s.out[k]; !ok {
		s.out[k] = s.line
	}
}

// blanks skips spaces and tabs (and, if newlines, newlines and comments).
func (s *lineScanner) blanks(newlines bool) {
	for !s.eof() {
		switch c := s.src[s.i]; {
		case c == ' ' || c == '\t' || c == '\r':
			s.i++
		case newlines && c == '\n':
			s.line++
			s.i++
		case newlines && c == '#':
			s.comment()
		default:
			return
		}
	}
}

func (s *lineScanner) comment() {
	for !s.eof() && s.src[s.i] != '\n' {
		s.i++
	}
}

// restOfLine skips to the start of the next line.
func (s *lineScanner) restOfLine() {
	s.comment()
	if !s.eof() {
		s.line++
		s.i++
	}
}

func (s *lineScanner) document() {
	var table []string
	for !s.eof() {
		start := s.i
		s.blanks(true)
		if s.eof() {
			return
		}
		switch s.peek() {
		case '[':
			s.i++
			array := s.peek() == '['
			if array {
				s.i++
			}
			key := s.key()
			table = key
			s.record(table)
			s.restOfLine()
		default:
			key := s.key()
			if len(key) == 0 {
				s.restOfLine()
				break
			}
			s.blanks(false)
			if s.peek() != '=' {
				s.restOfLine()
				break
			}
			s.i++
			path := join(table, key)
			s.recordPrefixes(table, key)
			s.value(path)
		}
		if s.i == start { // cannot happen; belt and braces against a loop
			s.i++
		}
	}
}

// recordPrefixes records a dotted key's implicit tables (a.b.c = 1 defines
// a.b too) at the current line.
func (s *lineScanner) recordPrefixes(table, key []string) {
	for n := 1; n <= len(key); n++ {
		s.record(join(table, key[:n]))
	}
}

func join(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

// key reads a possibly dotted, possibly quoted key.
func (s *lineScanner) key() []string {
	var parts []string
	for {
		s.blanks(false)
		var part string
		switch c := s.peek(); {
		case c == '"':
			raw := s.str()
			if u, err := strconv.Unquote(raw); err == nil {
				part = u
			} else {
				part = strings.Trim(raw, `"`)
			}
		case c == '\'':
			part = strings.Trim(s.str(), "'")
		case isBare(c):
			j := s.i
			for !s.eof() && isBare(s.src[s.i]) {
				s.i++
			}
			part = s.src[j:s.i]
		default:
			return parts
		}
		parts = append(parts, part)
		s.blanks(false)
		if s.peek() != '.' {
			return parts
		}
		s.i++
	}
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// str reads any of the four TOML string forms and returns its raw text.
func (s *lineScanner) str() string {
	j := s.i
	q := s.src[s.i]
	if strings.HasPrefix(s.src[s.i:], string([]byte{q, q, q})) {
		s.i += 3
		for !s.eof() {
			if strings.HasPrefix(s.src[s.i:], string([]byte{q, q, q})) {
				s.i += 3
				// Up to two more quotes may belong to the content.
				for n := 0; n < 2 && s.peek() == q; n++ {
					s.i++
				}
				return s.src[j:s.i]
			}
			if q == '"' && s.src[s.i] == '\\' {
				s.i++
			}
			if !s.eof() && s.src[s.i] == '\n' {
				s.line++
			}
			s.i++
		}
		return s.src[j:]
	}
	s.i++
	for !s.eof() {
		c := s.src[s.i]
		switch {
		case c == q:
			s.i++
			return s.src[j:s.i]
		case c == '\n': // unterminated; let the line loop continue
			return s.src[j:s.i]
		case q == '"' && c == '\\':
			s.i++
		}
		s.i++
	}
	return s.src[j:]
}

// value skips one value, recording the keys of inline tables under path.
func (s *lineScanner) value(path []string) {
	s.blanks(false)
	switch c := s.peek(); c {
	case '"', '\'':
		s.str()
	case '[':
		// Keys of inline tables inside arrays are reported by the parser
		// under the array's key, without an index.
		s.items(']', func() { s.value(path) })
	case '{':
		s.items('}', func() {
			key := s.key()
			s.blanks(false)
			if len(key) > 0 && s.peek() == '=' {
				s.i++
				if path != nil {
					s.recordPrefixes(path, key)
					s.value(join(path, key))
				} else {
					s.value(nil)
				}
			}
		})
	default:
		for !s.eof() {
			switch s.src[s.i] {
			case ' ', '\t', '\r', '\n', ',', ']', '}', '#':
				return
			}
			s.i++
		}
	}
}

// items skips the items of an array or inline table, from its opening
// bracket to end (its closing one), with item skipping each item; an item
// it cannot read is skipped a byte at a time. Newlines may separate items
// (TOML 1.1 allows them in inline tables too).
func (s *lineScanner) items(end byte, item func()) {
	s.i++
	for !s.eof() {
		s.blanks(true)
		switch s.peek() {
		case end:
			s.i++
			return
		case ',':
			s.i++
		default:
			j := s.i
			item()
			if s.i == j {
				s.i++
			}
		}
	}
}
