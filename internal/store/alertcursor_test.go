package store

import (
	"testing"
	"time"
)

func TestAlertCursorText(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	for _, c := range []AlertCursor{
		{},
		{FirstSeen: at, ID: AlertID("root", "e1", time.Time{}, false)},
		{FirstSeen: at},
	} {
		s := c.String()
		got, err := ParseAlertCursor(s)
		if err != nil || got != c {
			t.Errorf("ParseAlertCursor(%q) = %+v, %v; want %+v", s, got, err, c)
		}
	}
	if s := (AlertCursor{}).String(); s != "" {
		t.Errorf("the zero cursor is %q, want \"\"", s)
	}
	for _, s := range []string{"abc", "1772366400000000000", "x.abc", "-5.abc", "0.abc", ".abc"} {
		if c, err := ParseAlertCursor(s); err == nil {
			t.Errorf("ParseAlertCursor(%q) = %+v, want an error", s, c)
		}
	}
}
