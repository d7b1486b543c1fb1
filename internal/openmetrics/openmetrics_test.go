package openmetrics

import (
	"bytes"
	"testing"
	"time"
)

func TestWrite(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) // 1767323045 s
	fams := []Family{
		{Name: "z_last", Help: "z.", Samples: []Sample{{Labels: []string{"a", "1"}, Time: t0, Value: 1}}},
		{Name: "a_first_seconds", Help: "a.", Unit: "seconds", Samples: []Sample{
			{Labels: []string{"s", "y"}, Time: t0.Add(time.Minute), Value: 4},
			{Labels: []string{"s", "x"}, Time: t0.Add(time.Minute), Value: 2},
			{Labels: []string{"s", "x"}, Time: t0, Value: 1},
			{Labels: []string{"s", "x"}, Time: t0, Value: 9}, // same series and millisecond: dropped
		}},
		{Name: "empty"},
	}
	var b bytes.Buffer
	if err := Write(&b, fams); err != nil {
		t.Fatal(err)
	}
	want := `# HELP a_first_seconds a.
# TYPE a_first_seconds gauge
# UNIT a_first_seconds seconds
a_first_seconds{s="x"} 1.0 1.767323045e+09
a_first_seconds{s="x"} 2.0 1.767323105e+09
a_first_seconds{s="y"} 4.0 1.767323105e+09
# HELP z_last z.
# TYPE z_last gauge
z_last{a="1"} 1.0 1.767323045e+09
# EOF
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
