package tomlcheck

import (
	"reflect"
	"testing"
)

func TestLines(t *testing.T) {
	src := `# comment with a = 1 and [fake]
name = "x # not a comment" # comment [nope]
description = """
[not_a_table]
fake = 1
"""
literal = '''
also = "not a key"
'''
arr = [
  1, # comment
  { in_array = 2 },
  "]",
]

[a]
b = 1
"quoted key" = 2
dotted.key = 3
inline = { x = 1, y = { z = 2 } }

  [ a.sub ]   # indented header with spaces
c = 'it''s'
d = 1979-05-27 07:32:00Z
e = "esc \" [x] = 1"

[[arr_of_tables]]
f = 1
`
	got := Lines(src)
	want := map[string]int{
		"name": 2, "description": 3, "literal": 7, "arr": 10, "arr.in_array": 12,
		"a": 16, "a.b": 17, `a."quoted key"`: 18, "a.dotted": 19, "a.dotted.key": 19,
		"a.inline": 20, "a.inline.x": 20, "a.inline.y": 20, "a.inline.y.z": 20,
		"a.sub": 22, "a.sub.c": 23, "a.sub.d": 24, "a.sub.e": 25,
		"arr_of_tables": 27, "arr_of_tables.f": 28,
	}
	if !reflect.DeepEqual(got, want) {
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: line %d, want %d", k, got[k], v)
			}
		}
		for k, v := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("unexpected key %s (line %d)", k, v)
			}
		}
	}
}

func TestLinesNeverHangs(t *testing.T) {
	// Not valid TOML, but the scanner must still end.
	for _, src := range []string{"", "[", "[[", "a", "a =", `a = "`, `a = """`, "a = [", "a = {", "a = {b", "= = =", "\"\\", "'''", "a.b.", "[a.]\n"} {
		Lines(src)
	}
}
