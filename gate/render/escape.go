package render

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameRunes caps any single untrusted string rendered into Markdown or
// text; longer strings are cut and end in "…".
const MaxNameRunes = 200

// zwj is the zero-width joiner inserted to break @mentions, #123 references
// and autolinked URLs without changing what a reader sees.
const zwj = "\u200d"

// Escape makes an untrusted string (a name from the user's code or files, a
// reason, a path) safe to place anywhere in GitHub-flavoured Markdown, including
// a table cell or a list item. It is the one escape function every Markdown
// renderer in m18-gate uses:
//
//   - newlines, tabs and other control characters become spaces, and Unicode
//     bidirectional overrides are dropped (no "Trojan source" reordering);
//   - HTML is entity-escaped (&, <, >), so <script> or <img> is shown, not run;
//   - Markdown punctuation is backslash-escaped (backticks, * _ ~ [ ] ( ) ! |
//     \ $ { }), so a name can neither format, link, break out of a table cell
//     nor start math;
//   - @mentions, #123 / GH-123 references and autolinks (scheme://, www.) are
//     broken with a zero-width joiner so they neither ping nor cross-reference;
//   - the result is at most MaxNameRunes runes.
func Escape(s string) string {
	s = clip(Plain(s), MaxNameRunes)
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	rs := []rune(s)
	for i, r := range rs {
		next := rune(0)
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\\', '`', '*', '_', '~', '[', ']', '(', ')', '!', '|', '$', '{', '}':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '@':
			// GitHub links @name and @org/team; a joiner after @ breaks both.
			b.WriteString("@" + zwj)
		case '#':
			// #123 and owner/repo#123 cross-reference issues.
			b.WriteRune('#')
			if unicode.IsDigit(next) {
				b.WriteString(zwj)
			}
		case '-':
			// GH-123 references an issue too.
			b.WriteRune('-')
			if i >= 2 && unicode.IsDigit(next) && strings.EqualFold(string(rs[i-2:i]), "gh") {
				b.WriteString(zwj)
			}
		case ':':
			// scheme:// autolinks.
			b.WriteRune(':')
			if next == '/' {
				b.WriteString(zwj)
			}
		case '.':
			// www.example.com autolinks.
			b.WriteRune('.')
			if i >= 3 && strings.EqualFold(string(rs[i-3:i]), "www") {
				b.WriteString(zwj)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Plain makes an untrusted string safe for a terminal or a plain-text field
// (check-run annotation, Slack text before its own escaping): control
// characters, including ANSI escape sequences' ESC, become spaces, bidi
// overrides are dropped, invalid UTF-8 is replaced.
func Plain(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case isBidi(r):
			// dropped
		case r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\u2060' || r == '\ufeff':
			// Drop existing invisible characters so what we insert is ours.
		case unicode.IsControl(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isBidi(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') || r == '\u200e' || r == '\u200f' || r == '\u061c'
}

// clip cuts s to at most n runes, ending in "…" when cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)
	return string(rs[:n-1]) + "…"
}

// SafeURL returns u if it is an absolute http or https URL, percent-encoding
// the characters that could end a Markdown link target or start HTML, and ""
// otherwise (javascript:, data:, relative or unparsable URLs are dropped).
func SafeURL(u string) string {
	u = strings.TrimSpace(u)
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	s := p.String()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= ' ' || c >= 0x7f || strings.IndexByte("()<>[]\"'`\\|{}", c) >= 0:
			b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// link renders a Markdown link to an untrusted URL, or the escaped label
// alone when the URL is not safe.
func link(label, u string) string {
	if s := SafeURL(u); s != "" {
		return "[" + label + "](" + s + ")"
	}
	return label
}

// HiddenComment returns the HTML comment that embeds marker invisibly in a
// Markdown body. Anything that could close the comment early ("--", ">") or
// span lines is replaced, so the same marker always yields the same string
// and callers can search bodies for it.
func HiddenComment(marker string) string {
	m := Plain(marker)
	m = strings.ReplaceAll(m, "--", "- ")
	m = strings.NewReplacer(">", " ", "<", " ").Replace(m)
	m = clip(strings.TrimSpace(m), 400)
	return "<!-- " + m + " -->"
}
