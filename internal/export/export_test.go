package export

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/rule"
	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/export -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs (run go test ./internal/export -update to accept):\n%s", path, firstDiff(string(want), string(got)))
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + itoa(i+1) + ":\nwant: " + wl + "\n got: " + gl
		}
	}
	return ""
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func builtinRules(t *testing.T) []*rule.Rule {
	t.Helper()
	rs, err := rule.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// cases are the paths the export generates, each with its golden files.
func cases(t *testing.T) []struct {
	name   string
	o      Options
	params map[string]string
} {
	return []struct {
		name   string
		o      Options
		params map[string]string
	}{
		{"http", Options{Endpoint: "https://trailwatch.example.com", HomeRegion: "ap-northeast-1"},
			map[string]string{"ApiKeyValue": "0123456789abcdef0123"}},
		{"http-narrow-orgtrail", Options{Endpoint: "https://trailwatch.example.com/events", HomeRegion: "eu-west-1",
			OrganizationTrailBucket: "org-trail-logs", Rules: builtinRules(t), Regions: []string{"eu-west-1", "us-east-1"}},
			map[string]string{"ApiKeyValue": "0123456789abcdef0123", "AWS::Region": "eu-west-1"}},
		{"sqs", Options{QueueARN: "arn:aws:sqs:ap-northeast-1:123456789012:trailwatch-events", ReadOnlyEvents: true},
			map[string]string{"AWS::Region": "ap-northeast-1"}},
		{"sqs-fifo-orgtrail", Options{QueueARN: "arn:aws:sqs:us-east-1:123456789012:trailwatch.fifo", OrganizationTrailBucket: "org-trail-logs"},
			nil},
	}
}

func TestCloudFormation(t *testing.T) {
	t.Parallel()
	for _, c := range cases(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.o.Command = "trailwatch export cloudformation (test " + c.name + ")"
			got, err := CloudFormation(c.o)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name+".yaml.golden", got)
			var doc map[string]any
			if err := yaml.Unmarshal(got, &doc); err != nil {
				t.Fatalf("not YAML: %v", err)
			}
			// Trailwatch's own template reader loads it: the rules and
			// targets it does not run are Skipped, never errors.
			f := filepath.Join(t.TempDir(), "trailwatch.yaml")
			if err := os.WriteFile(f, got, 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(nil, []string{f}, c.params, nil)
			if err != nil {
				t.Fatalf("config.Load: %v", err)
			}
			for _, s := range cfg.Skipped {
				t.Logf("skipped: %s", s)
			}
			t.Logf("%d rules, %d receivers, %d routes", len(cfg.Rules), len(cfg.Receivers), len(cfg.Routes))
		})
	}
}
