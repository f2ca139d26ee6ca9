package export

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/rule"
	"github.com/trailwatch/trailwatch/pattern"
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
			map[string]string{"AWS::Region": "us-east-2"}}, // a forwarding region
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

func TestTerraform(t *testing.T) {
	t.Parallel()
	for _, c := range cases(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.o.Command = "trailwatch export terraform (test " + c.name + ")"
			got, err := Terraform(c.o)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name+".tf.golden", got)
			if err := checkHCL(string(got)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// checkHCL is a small syntax check of HCL (hashicorp/hcl is not a
// dependency): strings are closed, brackets balance outside strings and
// comments, template interpolations are closed, and every top-level line
// is a block header, an attribute of a block or a comment.
func checkHCL(src string) error {
	var stack []byte
	line := 1
	closing := map[byte]byte{')': '(', ']': '[', '}': '{'}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\n':
			line++
		case c == '#' || (c == '/' && i+1 < len(src) && src[i+1] == '/'):
			for i < len(src) && src[i] != '\n' {
				i++
			}
			i--
		case c == '"':
			// A quoted template: escapes and ${...} interpolations.
			i++
			for ; ; i++ {
				if i >= len(src) || src[i] == '\n' {
					return fmt.Errorf("line %d: unterminated string", line)
				}
				if src[i] == '\\' {
					i++
					continue
				}
				if src[i] == '$' && i+1 < len(src) && src[i+1] == '$' {
					i++
					continue
				}
				if src[i] == '$' && i+1 < len(src) && src[i+1] == '{' {
					end := strings.IndexByte(src[i:], '}')
					if end < 0 || strings.ContainsAny(src[i:i+end], "\n\"") {
						return fmt.Errorf("line %d: unterminated interpolation", line)
					}
					i += end
					continue
				}
				if src[i] == '"' {
					break
				}
			}
		case c == '(' || c == '[' || c == '{':
			stack = append(stack, c)
		case closing[c] != 0:
			if len(stack) == 0 || stack[len(stack)-1] != closing[c] {
				return fmt.Errorf("line %d: unbalanced %q", line, c)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 {
		return fmt.Errorf("end of file: %d unclosed brackets (%q)", len(stack), stack)
	}
	header := regexp.MustCompile(`^(terraform|locals|provider "[a-z0-9_]+"|variable "[a-z0-9_]+"|output "[a-z0-9_]+"|(resource|data) "[a-z0-9_]+" "[a-z0-9_]+") \{(\})?$`)
	for i, l := range strings.Split(src, "\n") {
		if l == "" || l == "}" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, " ") {
			continue
		}
		if !header.MatchString(l) {
			return fmt.Errorf("line %d: not a block header: %s", i+1, l)
		}
	}
	return nil
}

func TestCheckHCL(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		"resource \"a\" \"b\" {\n  x = \"y\n}\n",
		"resource \"a\" \"b\" {\n  x = [1, 2\n}\n",
		"locals {\n  x = \"${a\"\n}\n",
		"locals {\n  x = 1\n",
		"locals {\n  x = 1\n}\nx = 2\n",
	} {
		if checkHCL(bad) == nil {
			t.Errorf("checkHCL accepted %q", bad)
		}
	}
	if err := checkHCL("locals {\n  x = \"$${a} ${b}\" # }\n  y = { \"k\" : [1] }\n}\n"); err != nil {
		t.Error(err)
	}
}

// TestNarrowedPatternsKeepRuleMatches: every event a built-in rule's tests
// expect it to match is forwarded by the narrowed patterns (narrowing only
// drops what no rule can match).
func TestNarrowedPatternsKeepRuleMatches(t *testing.T) {
	t.Parallel()
	rules := builtinRules(t)
	p, err := BuildPatterns(rules)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.APICalls) < 2 {
		t.Errorf("%d API-call patterns, want them split under %d characters", len(p.APICalls), MaxPatternSize)
	}
	var pats []*pattern.Pattern
	for _, b := range append([][]byte{p.SignIn}, p.APICalls...) {
		if len(b) > MaxPatternSize {
			t.Errorf("pattern of %d characters", len(b))
		}
		pt, err := rule.ParsePattern(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		pats = append(pats, pt)
	}
	checked := 0
	for _, r := range rules {
		for _, tc := range r.Tests {
			if !tc.Expect {
				continue
			}
			forwarded := false
			for _, pt := range pats {
				if ok, _ := pattern.Matches(pt, tc.Event.JSON); ok {
					forwarded = true
					break
				}
			}
			if !forwarded {
				t.Errorf("rule %s, test %q (%s): not forwarded", r.Name, tc.Name, tc.Source)
			}
			checked++
		}
	}
	t.Logf("%d rules, %d matching test events forwarded; %d API-call patterns", len(rules), checked, len(p.APICalls))
	// Without rules nothing is narrowed.
	all, err := BuildPatterns(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.APICalls) != 1 || string(all.APICalls[0]) != `{"detail-type":["AWS API Call via CloudTrail"]}` {
		t.Errorf("unnarrowed: %s", all.APICalls)
	}
}
