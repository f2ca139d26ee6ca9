package transform

import (
	"testing"

	"github.com/trailwatch/trailwatch/internal/event"
)

// BenchmarkRenderSeed001 renders seed 001's Slack template over a real
// ConsoleLogin event, as the serve path does for each delivery.
func BenchmarkRenderSeed001(b *testing.B) {
	m, template := seedTransformer(b)
	tr, err := New(m, template)
	if err != nil {
		b.Fatal(err)
	}
	e, err := event.FromRecord([]byte(switchRole))
	if err != nil {
		b.Fatal(err)
	}
	v := Vars{RuleARN: "arn:aws:events:us-east-1:222222222222:rule/r", RuleName: "r"}
	b.SetBytes(int64(len(e.JSON)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.Render(e.JSON, v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNew(b *testing.B) {
	m, template := seedTransformer(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(m, template); err != nil {
			b.Fatal(err)
		}
	}
}
