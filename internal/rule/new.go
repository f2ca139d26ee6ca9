package rule

import (
	"errors"
	"fmt"

	"github.com/trailwatch/trailwatch/pattern"
)

// New builds a rule from an event pattern given as JSON, as a
// CloudFormation AWS::Events::Rule or another configuration reader
// defines one. The pattern is validated as written and compiled with the
// sign-in detail-type spelling rewrite (see ParsePattern); the summary is
// the default one. source locates the rule ("file:line").
func New(name, description string, sev Severity, patternJSON []byte, includeReadOnly bool, source string) (*Rule, error) {
	if name == "" {
		return nil, errors.New("rule: missing name")
	}
	if sev < SeverityInfo || sev > SeverityCritical {
		return nil, fmt.Errorf("rule %s: unknown severity %d", name, int(sev))
	}
	if _, err := pattern.Parse(patternJSON); err != nil {
		return nil, fmt.Errorf("rule %s: pattern: %w", name, err)
	}
	pt, err := ParsePattern(patternJSON)
	if err != nil {
		return nil, fmt.Errorf("rule %s: pattern after the sign-in spelling rewrite: %w", name, err)
	}
	t, err := compileSummary(name, defaultSummary)
	if err != nil {
		return nil, fmt.Errorf("rule %s: summary: %w", name, err)
	}
	return &Rule{
		Name:            name,
		Description:     description,
		Severity:        sev,
		IncludeReadOnly: includeReadOnly,
		Pattern:         pt,
		PatternJSON:     append([]byte(nil), patternJSON...),
		SummaryTemplate: defaultSummary,
		Source:          source,
		summary:         t,
	}, nil
}
