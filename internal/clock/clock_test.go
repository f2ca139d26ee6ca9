package clock

import (
	"context"
	"testing"
	"time"
)

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func fired(t Timer) bool {
	select {
	case <-t.C():
		return true
	default:
		return false
	}
}

func TestFakeTimersFireInOrderWhenDue(t *testing.T) {
	t.Parallel()
	f := NewFake(epoch)
	a := f.NewTimer(time.Minute)
	b := f.NewTimer(2 * time.Minute)
	f.Advance(59 * time.Second)
	if fired(a) || fired(b) {
		t.Fatal("a timer fired early")
	}
	f.Advance(time.Second)
	if !fired(a) {
		t.Fatal("a did not fire at its deadline")
	}
	if fired(b) {
		t.Fatal("b fired early")
	}
	if got := f.Timers(); got != 1 {
		t.Fatalf("Timers = %d, want 1", got)
	}
	f.Advance(time.Hour)
	if !fired(b) {
		t.Fatal("b did not fire")
	}
	if got, want := f.Now(), epoch.Add(time.Hour+time.Minute); !got.Equal(want) {
		t.Fatalf("Now = %v, want %v", got, want)
	}
}

func TestFakeStopAndZeroDuration(t *testing.T) {
	t.Parallel()
	f := NewFake(epoch)
	a := f.NewTimer(time.Second)
	if !a.Stop() {
		t.Fatal("Stop of a pending timer = false")
	}
	if a.Stop() {
		t.Fatal("second Stop = true")
	}
	f.Advance(time.Minute)
	if fired(a) {
		t.Fatal("stopped timer fired")
	}
	if z := f.NewTimer(0); !fired(z) {
		t.Fatal("zero timer did not fire at once")
	}
	f.Set(epoch) // backwards: ignored
	if !f.Now().Equal(epoch.Add(time.Minute)) {
		t.Fatal("Set moved the clock backwards")
	}
}

func TestFakeWaitTimers(t *testing.T) {
	t.Parallel()
	f := NewFake(epoch)
	done := make(chan time.Time)
	go func() {
		tm := f.NewTimer(time.Hour)
		done <- <-tm.C()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.WaitTimers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	f.Advance(time.Hour)
	if got := <-done; !got.Equal(epoch.Add(time.Hour)) {
		t.Fatalf("fired at %v", got)
	}
}

func TestReal(t *testing.T) {
	t.Parallel()
	c := Real()
	tm := c.NewTimer(0)
	<-tm.C()
	if c.Now().IsZero() {
		t.Fatal("zero time")
	}
	if tm2 := c.NewTimer(time.Hour); !tm2.Stop() {
		t.Fatal("Stop = false")
	}
}
