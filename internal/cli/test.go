package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/trailwatch/trailwatch/internal/rule"
)

const testHelp = "test [-v] [--no-builtin] [PATH...]"

// runTest runs the inline tests of the built-in packs and of the rule files
// at the given paths, like panther_analysis_tool test.
func runTest(args []string, env *Env) (int, error) {
	fs := newFlagSet("test", env, testHelp)
	verbose := fs.Bool("v", false, "print every test, not only failures")
	noBuiltin := fs.Bool("no-builtin", false, "test only the given rule files, not the built-in packs")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return ExitFailure, err
	}
	if *noBuiltin && len(paths) == 0 {
		return ExitFailure, fmt.Errorf("--no-builtin needs a rule PATH")
	}
	rules, err := loadRules(paths, !*noBuiltin)
	if err != nil {
		return ExitFailure, err
	}
	// A set checks what single rules cannot: names are unique.
	if _, err := rule.NewSet(rules); err != nil {
		return ExitFailure, err
	}
	results := rule.RunTests(rules)
	passed, failed := 0, 0
	for _, r := range results {
		if r.Passed() {
			passed++
			if *verbose {
				fmt.Fprintf(env.Stdout, "PASS  %s: %s\n", r.Rule.Name, r.Test.Name)
			}
			continue
		}
		failed++
		want := "match"
		if !r.Test.Expect {
			want = "no match"
		}
		got := "match"
		if !r.Got {
			got = "no match"
		}
		msg := fmt.Sprintf("want %s, got %s", want, got)
		if r.Err != nil {
			msg = r.Err.Error()
		}
		fmt.Fprintf(env.Stdout, "FAIL  %s: %s (%s): %s\n", r.Rule.Name, r.Test.Name, r.Test.Source, msg)
	}
	untested := 0
	for _, r := range rules {
		if len(r.Tests) == 0 {
			untested++
			fmt.Fprintf(env.Stderr, "trailwatch test: %s (%s) has no tests\n", r.Name, r.Source)
		}
	}
	fmt.Fprintf(env.Stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return ExitFound, nil
	}
	return ExitOK, nil
}

const rulesHelp = "rules [--rules PATH]... [--builtin]"

// runRules lists the rules that scan would run.
func runRules(args []string, env *Env) (int, error) {
	fs := newFlagSet("rules", env, rulesHelp)
	var rulePaths stringList
	fs.Var(&rulePaths, "rules", "rule `PATH` (file or directory); repeatable; replaces the built-in packs unless --builtin")
	builtin := fs.Bool("builtin", false, "also list the built-in packs when --rules is given")
	if _, err := parseFlags(fs, args); err != nil {
		return ExitFailure, err
	}
	rules, err := loadRules(rulePaths, *builtin || len(rulePaths) == 0)
	if err != nil {
		return ExitFailure, err
	}
	if _, err := rule.NewSet(rules); err != nil {
		return ExitFailure, err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tSEVERITY\tTAGS\tDESCRIPTION")
	for _, r := range rules {
		tags := "-"
		if len(r.Tags) > 0 {
			tags = strings.Join(r.Tags, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, r.Severity, cell(tags), cell(firstSentence(r.Description)))
	}
	return ExitOK, tw.Flush()
}

// firstSentence cuts a description for a one-line listing.
func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}
