package target

import (
	"flag"
	"io"
	"testing"
	"time"
)

func TestKnobFlags(t *testing.T) {
	for _, prefix := range []string{"", "target-"} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var o Options
		KnobFlags(fs, prefix, &o)
		args := []string{
			"--" + prefix + "slowdown", "50", "--" + prefix + "slowdown-of", "process", "--" + prefix + "stall-every", "2s", "--" + prefix + "stall-for", "100ms",
			"--" + prefix + "fail-rate", "0.01", "--" + prefix + "capacity", "800", "--" + prefix + "leak", "5",
			"--" + prefix + "work", "20ms", "--" + prefix + "workers", "4", "--" + prefix + "shared-workers",
			"--" + prefix + "serial", "0.5", "--" + prefix + "key-lock",
			"--" + prefix + "simd", "off", "--" + prefix + "counters", "shared-line",
		}
		if err := fs.Parse(args); err != nil {
			t.Fatalf("prefix %q: %v", prefix, err)
		}
		want := Options{Slowdown: 50, SlowdownOf: SlowdownOfProcess, StallEvery: 2 * time.Second, StallFor: 100 * time.Millisecond, FailRate: 0.01, Capacity: 800, LeakMBPerMin: 5,
			Work: 20 * time.Millisecond, Workers: 4, SharedWorkers: true, Serial: 0.5, KeyLock: true, ScalarDot: true, Counters: CountersShared}
		if o != want {
			t.Errorf("prefix %q: %+v, want %+v", prefix, o, want)
		}
		if err := o.Validate(); err != nil {
			t.Errorf("prefix %q: %v", prefix, err)
		}
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n != 14 {
			t.Errorf("prefix %q: %d flags, want the 14 knobs", prefix, n)
		}
	}
}

// TestSlowdownOfDefault: a target of its own measures its process; the
// built-in one, which shares its process with the generator, its handler.
func TestSlowdownOfDefault(t *testing.T) {
	for prefix, want := range map[string]string{"": SlowdownOfProcess, "target-": ""} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		var o Options
		KnobFlags(fs, prefix, &o)
		if err := fs.Parse(nil); err != nil {
			t.Fatal(err)
		}
		if o.SlowdownOf != want {
			t.Errorf("prefix %q: SlowdownOf %q by default, want %q", prefix, o.SlowdownOf, want)
		}
	}
}

func TestSIMDFlag(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		scalar bool
		bad    bool
	}{
		{nil, false, false}, {[]string{"--simd", "on"}, false, false}, {[]string{"--simd", "off"}, true, false},
		{[]string{"--simd", "maybe"}, false, true},
	} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var o Options
		KnobFlags(fs, "", &o)
		err := fs.Parse(tt.args)
		if (err != nil) != tt.bad || o.ScalarDot != tt.scalar {
			t.Errorf("%v: scalar %v err %v", tt.args, o.ScalarDot, err)
		}
	}
}

// TestKnobArgs: every knob's flag, as KnobArgs writes it, parses back into
// the same options with m18-target's flag set; a slowdown with no unit
// says handler, and zero knobs write nothing.
func TestKnobArgs(t *testing.T) {
	every := Options{Slowdown: 25, SlowdownOf: SlowdownOfHandler, StallEvery: time.Second, StallFor: 10 * time.Millisecond, FailRate: 0.01, Capacity: 800,
		LeakMBPerMin: 2, Work: time.Millisecond, Workers: 4, SharedWorkers: true, Serial: 0.5, KeyLock: true, ScalarDot: true, Counters: CountersPadded}
	tests := []struct {
		name string
		o    Options
		want Options
	}{
		{"every knob", every, every},
		{"slowdown of the process", Options{Slowdown: 10, SlowdownOf: SlowdownOfProcess}, Options{Slowdown: 10, SlowdownOf: SlowdownOfProcess}},
		{"slowdown, unit left empty", Options{Slowdown: 10}, Options{Slowdown: 10, SlowdownOf: SlowdownOfHandler}},
		{"no knob", Options{}, Options{SlowdownOf: SlowdownOfProcess}}, // m18-target's default unit
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("m18-target", flag.ContinueOnError)
		var back Options
		KnobFlags(fs, "", &back)
		args := KnobArgs(tt.o)
		if err := fs.Parse(args); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if back != tt.want {
			t.Errorf("%s: %q parses to\n %+v\nwant %+v", tt.name, args, back, tt.want)
		}
		if tt.o == (Options{}) && len(args) > 0 {
			t.Errorf("%s: %q, want no arguments", tt.name, args)
		}
	}
}
