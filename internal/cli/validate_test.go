package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const seeds = "../../../shared/seeds"

func TestValidateSeeds(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(seeds); err != nil {
		t.Skipf("no seeds: %v", err)
	}
	for _, c := range []struct{ file, param string }{
		{"seed000-root-signin.yaml", "EmailAddress=security@example.com"},
		{"seed001-notify.yaml", "SlackIncomingWebhookUrl=https://hooks.slack.com/services/T000/B000/XXXX"},
		{"seed002-console-login-alarm.yaml", "EmailAddress=security@example.com"},
		{"seed004-iam-policy-alarm.yaml", "EmailAddress=security@example.com"},
	} {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := run(t, "", "validate", "--template", filepath.Join(seeds, c.file), "--parameter", c.param)
			if code != ExitOK {
				t.Fatalf("exit %d, want 0; stderr:\n%s", code, errOut)
			}
			if !strings.HasSuffix(out, "valid\n") || !strings.Contains(out, "rules: ") || !strings.Contains(out, "skipped: ") {
				t.Errorf("output:\n%s", out)
			}
			if c.file == "seed002-console-login-alarm.yaml" {
				golden(t, "validate-seed002.txt.golden", out)
			}
		})
	}
}

func TestValidateProblems(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("receivers:\n  - name: x\n    bogus: 1\nroutes:\n  - receivers: [nobody]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "", "validate", "--config", bad)
	if code != ExitFailure {
		t.Fatalf("exit %d, want 2", code)
	}
	if out != "" {
		t.Errorf("stdout %q, want nothing", out)
	}
	for _, want := range []string{bad + ":3:5: receivers[0].bogus: unknown key", bad + ":5:", "invalid: "} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	// Every problem is one line starting with the file.
	for _, l := range strings.Split(strings.TrimSpace(errOut), "\n") {
		if !strings.HasPrefix(l, bad+":") && !strings.HasPrefix(l, "invalid: ") {
			t.Errorf("line %q does not locate its problem", l)
		}
	}
}

func TestValidateMissingParameter(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(seeds); err != nil {
		t.Skipf("no seeds: %v", err)
	}
	f := filepath.Join(seeds, "seed000-root-signin.yaml")
	code, _, errOut := run(t, "", "validate", "--template", f)
	if code != ExitFailure || !strings.Contains(errOut, f+":") || !strings.Contains(errOut, "EmailAddress") {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	code, _, errOut = run(t, "", "validate", "--template", f, "--parameter", "EmailAddress=a@example.com", "--parameter", "Nope=1")
	if code != ExitFailure || !strings.Contains(errOut, "parameter Nope: no template declares it") {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
}

func TestValidateUsage(t *testing.T) {
	t.Parallel()
	code, _, errOut := run(t, "", "validate", "--terraform", "main.tf")
	if code != ExitFailure || !strings.Contains(errOut, "main.tf: reading Terraform configuration is not supported yet") {
		t.Errorf("--terraform: exit %d; stderr:\n%s", code, errOut)
	}
	if code, _, _ := run(t, "", "validate"); code != ExitFailure {
		t.Errorf("no files: exit %d, want 2", code)
	}
	if code, _, _ := run(t, "", "validate", "--config", "/nonexistent/trailwatch.yaml"); code != ExitFailure {
		t.Errorf("missing file: exit %d, want 2", code)
	}
}
