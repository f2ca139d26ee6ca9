package rule

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/pattern"
	"github.com/trailwatch/trailwatch/rules"
)

// Error is a load error located in a rule file. Its text reads
// "file:line:col: field: message".
type Error struct {
	File  string
	Line  int
	Col   int
	Field string // e.g. "rules[2].pattern", "" when not about one field
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Col)
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

var nameRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Parse reads one rule file. name is the file's name for error messages and
// Rule.Source; a test's event_file is read relative to its directory.
//
// A file holds either a mapping with the single key "rules" (a list of
// rules), a list of rules, or a single rule. A rule:
//
//	name: root-console-signin        # required, unique, kebab-case
//	description: ...
//	severity: critical               # info|low|medium|high|critical; default medium
//	tags: [cis-1.7]
//	include_read_only: false         # see Rule.IncludeReadOnly
//	pattern: {...}                   # required: EventBridge event pattern, YAML mapping or JSON string
//	summary: "{{.principal}} ..."    # text/template; see Rule.Summary
//	tests:
//	  - name: ...
//	    expect: true                 # required
//	    event: {...}                 # CloudTrail record or EventBridge event (has detail-type)
//	    event_file: x.json           # instead of event, relative to the rule file
//
// Unknown keys are errors. All errors of a file are returned, joined, each
// an *Error.
func Parse(data []byte, name string) ([]*Rule, error) {
	dir := filepath.Dir(name)
	return parseFile(data, name, func(p string) ([]byte, error) {
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		return os.ReadFile(p)
	})
}

// LoadFiles loads rule files, or directories searched recursively for
// *.yaml and *.yml files (in lexical order). Errors of all files are joined.
func LoadFiles(paths ...string) ([]*Rule, error) {
	var out []*Rule
	var errs []error
	for _, p := range paths {
		files, err := ruleFiles(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("rules: %w", err))
			continue
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, fmt.Errorf("rules: %w", err))
				continue
			}
			rs, err := Parse(data, f)
			out = append(out, rs...)
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return out, errors.Join(errs...)
}

func ruleFiles(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(fp string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && isRuleFile(d.Name()) {
			files = append(files, fp)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

func isRuleFile(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

// Builtin loads the packs embedded from the repository's rules/ directory.
// Their sources read "rules/<file>:<line>".
func Builtin() ([]*Rule, error) {
	return loadFS(rules.FS, "rules")
}

func loadFS(fsys fs.FS, prefix string) ([]*Rule, error) {
	var out []*Rule
	var errs []error
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && isRuleFile(d.Name()) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	sort.Strings(files)
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			errs = append(errs, fmt.Errorf("rules: %w", err))
			continue
		}
		dir := path.Dir(f)
		rs, err := parseFile(data, path.Join(prefix, f), func(p string) ([]byte, error) {
			return fs.ReadFile(fsys, path.Join(dir, p))
		})
		out = append(out, rs...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

// fileParser holds the state of parsing one file.
type fileParser struct {
	name     string
	readFile func(string) ([]byte, error)
	errs     []error
}

func (p *fileParser) errorf(n *yaml.Node, field, format string, args ...any) {
	e := &Error{File: p.name, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

func (p *fileParser) nodeErr(err error) {
	var ne *nodeError
	if errors.As(err, &ne) {
		p.errs = append(p.errs, &Error{File: p.name, Line: ne.line, Col: ne.col, Field: ne.field, Msg: ne.msg})
		return
	}
	p.errs = append(p.errs, &Error{File: p.name, Msg: err.Error()})
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func parseFile(data []byte, name string, readFile func(string) ([]byte, error)) ([]*Rule, error) {
	p := &fileParser{name: name, readFile: readFile}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*Rule
	for doc := 0; ; doc++ {
		var root yaml.Node
		err := dec.Decode(&root)
		if err == io.EOF {
			break
		}
		if err != nil {
			msg := err.Error()
			if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
				line, _ := strconv.Atoi(m[1])
				p.errs = append(p.errs, &Error{File: name, Line: line, Msg: m[2]})
			} else {
				p.errs = append(p.errs, &Error{File: name, Msg: strings.TrimPrefix(msg, "yaml: ")})
			}
			break
		}
		if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
			continue
		}
		out = append(out, p.document(root.Content[0])...)
	}
	return out, errors.Join(p.errs...)
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func (p *fileParser) document(n *yaml.Node) []*Rule {
	n = resolve(n)
	switch n.Kind {
	case yaml.SequenceNode:
		return p.ruleList(n, "")
	case yaml.MappingNode:
		if keyNode(n, "rules") != nil {
			var out []*Rule
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], resolve(n.Content[i+1])
				if k.Value != "rules" {
					p.errorf(k, k.Value, "unknown key (a pack file holds only \"rules\")")
					continue
				}
				if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
					continue
				}
				if v.Kind != yaml.SequenceNode {
					p.errorf(v, "rules", "want a list of rules")
					continue
				}
				out = append(out, p.ruleList(v, "rules")...)
			}
			return out
		}
		if r := p.rule(n, ""); r != nil {
			return []*Rule{r}
		}
		return nil
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return nil
		}
	}
	p.errorf(n, "", "want a rule, a list of rules, or a mapping with \"rules\"")
	return nil
}

func keyNode(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return nil
}

func (p *fileParser) ruleList(n *yaml.Node, field string) []*Rule {
	var out []*Rule
	for i, e := range n.Content {
		if r := p.rule(resolve(e), fmt.Sprintf("%s[%d]", field, i)); r != nil {
			out = append(out, r)
		}
	}
	return out
}

// stringValue reads a scalar as a string.
func (p *fileParser) stringValue(v *yaml.Node, field string) (string, bool) {
	v = resolve(v)
	if v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" {
		p.errorf(v, field, "want a string")
		return "", false
	}
	return v.Value, true
}

func (p *fileParser) intValue(v *yaml.Node, field string, min int) (int, bool) {
	v = resolve(v)
	n, err := strconv.Atoi(v.Value)
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || err != nil || n < min {
		p.errorf(v, field, "want a whole number of at least %d", min)
		return 0, false
	}
	return n, true
}

func (p *fileParser) durationValue(v *yaml.Node, field string) (time.Duration, bool) {
	s, ok := p.stringValue(v, field)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		p.errorf(v, field, "want a positive duration such as 90s, 5m or 1h")
		return 0, false
	}
	return d, true
}

// dedup reads a rule's dedup mapping.
func (p *fileParser) dedup(r *Rule, v *yaml.Node, field string) {
	v = resolve(v)
	if v.Kind != yaml.MappingNode {
		p.errorf(v, field, "want a mapping with key, period and threshold")
		return
	}
	r.Dedup.Threshold = 1
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		f := joinField(field, k.Value)
		switch k.Value {
		case "key":
			if s, ok := p.stringValue(val, f); ok {
				t, err := compileSummary(r.Name+".dedup", s)
				if err != nil {
					p.errorf(val, f, "%v", err)
					continue
				}
				r.Dedup.Key, r.Dedup.key = s, t
			}
		case "period":
			if d, ok := p.durationValue(val, f); ok {
				r.Dedup.Period = d
			}
		case "threshold":
			if n, ok := p.intValue(val, f, 1); ok {
				r.Dedup.Threshold = n
			}
		default:
			p.errorf(k, f, "unknown key")
		}
	}
	if r.Dedup.Period == 0 {
		p.errorf(v, joinField(field, "period"), "missing")
	}
}

func (p *fileParser) boolValue(v *yaml.Node, field string) (bool, bool) {
	v = resolve(v)
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
		p.errorf(v, field, "want true or false")
		return false, false
	}
	var b bool
	if err := v.Decode(&b); err != nil {
		p.errorf(v, field, "want true or false")
		return false, false
	}
	return b, true
}

// rule decodes one rule mapping. field is its path in the file ("rules[0]"),
// used in messages.
func (p *fileParser) rule(n *yaml.Node, field string) *Rule {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, field, "want a rule (a mapping)")
		return nil
	}
	nerr := len(p.errs)
	r := &Rule{Severity: SeverityMedium, Source: fmt.Sprintf("%s:%d", p.name, n.Line)}
	var patNode, patKey, sumNode, testsNode *yaml.Node
	seen := map[string]bool{}
	hasName := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f := joinField(field, k.Value)
		if seen[k.Value] {
			p.errorf(k, f, "duplicate key")
			continue
		}
		seen[k.Value] = true
		switch k.Value {
		case "name":
			if s, ok := p.stringValue(v, f); ok {
				hasName = true
				r.Name = s
				if !nameRE.MatchString(s) {
					p.errorf(v, f, "%q is not kebab-case (lower-case letters, digits and single hyphens)", s)
				}
			}
		case "description":
			if s, ok := p.stringValue(v, f); ok {
				r.Description = s
			}
		case "severity":
			if s, ok := p.stringValue(v, f); ok {
				sev, err := ParseSeverity(s)
				if err != nil {
					p.errorf(v, f, "%v", err)
				} else {
					r.Severity = sev
				}
			}
		case "tags":
			v = resolve(v)
			if v.Kind != yaml.SequenceNode {
				p.errorf(v, f, "want a list of strings")
				continue
			}
			for j, t := range v.Content {
				if s, ok := p.stringValue(t, fmt.Sprintf("%s[%d]", f, j)); ok {
					r.Tags = append(r.Tags, s)
				}
			}
		case "include_read_only":
			if b, ok := p.boolValue(v, f); ok {
				r.IncludeReadOnly = b
			}
		case "dedup":
			p.dedup(r, v, f)
		case "remind_every":
			if d, ok := p.durationValue(v, f); ok {
				r.RemindEvery = d
			}
		case "remind_max":
			if n, ok := p.intValue(v, f, 0); ok {
				r.RemindMax = n
			}
		case "pattern":
			patKey, patNode = k, resolve(v)
		case "summary":
			sumNode = resolve(v)
		case "tests":
			testsNode = resolve(v)
		default:
			p.errorf(k, f, "unknown key")
		}
	}
	if !hasName && !seen["name"] {
		p.errorf(n, joinField(field, "name"), "missing")
	}
	// The pattern.
	if patNode == nil {
		p.errorf(n, joinField(field, "pattern"), "missing")
	} else {
		p.pattern(r, patKey, patNode, joinField(field, "pattern"))
	}
	// The summary.
	src := defaultSummary
	sumField := joinField(field, "summary")
	if sumNode != nil {
		if s, ok := p.stringValue(sumNode, sumField); ok {
			src = s
		}
	}
	r.SummaryTemplate = src
	t, err := compileSummary(r.Name, src)
	if err != nil {
		p.errorf(sumNode, sumField, "%v", err)
	} else {
		r.summary = t
	}
	// Tests.
	if testsNode != nil {
		p.tests(r, testsNode, joinField(field, "tests"))
	}
	if r.summary != nil {
		for _, tc := range r.Tests {
			if _, err := r.renderSummary(tc.Event, nil); err != nil {
				p.errorf(sumNode, sumField, "on test %q: %v", tc.Name, err)
				break
			}
		}
	}
	if len(p.errs) > nerr {
		return nil
	}
	return r
}

func (p *fileParser) pattern(r *Rule, key, v *yaml.Node, field string) {
	var jv *jval
	switch {
	case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str":
		var err error
		jv, err = parseJSON([]byte(v.Value))
		if err != nil {
			p.errorf(v, field, "bad JSON: %v", err)
			return
		}
	case v.Kind == yaml.MappingNode:
		var err error
		jv, err = fromYAML(v, field)
		if err != nil {
			p.nodeErr(err)
			return
		}
	default:
		p.errorf(v, field, "want a mapping (or a JSON string)")
		return
	}
	r.PatternJSON = jv.JSON()
	// Check the pattern as written first, so that errors name what the
	// author wrote.
	if _, err := pattern.Parse(r.PatternJSON); err != nil {
		p.patternErr(key, field, err)
		return
	}
	src := r.PatternJSON
	if rewriteSignInSpelling(jv) {
		src = jv.JSON()
	}
	pt, err := pattern.Parse(src)
	if err != nil {
		p.patternErr(key, field, fmt.Errorf("after the sign-in spelling rewrite: %w", err))
		return
	}
	r.Pattern = pt
}

func (p *fileParser) patternErr(key *yaml.Node, field string, err error) {
	var pe *pattern.Error
	if errors.As(err, &pe) && pe.Path != "" {
		field = field + ": " + pe.Path
		p.errorf(key, field, "%s", pe.Msg)
		return
	}
	p.errorf(key, field, "%v", err)
}

func (p *fileParser) tests(r *Rule, n *yaml.Node, field string) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, field, "want a list of tests")
		return
	}
	for i, tn := range n.Content {
		tn = resolve(tn)
		f := fmt.Sprintf("%s[%d]", field, i)
		if tn.Kind != yaml.MappingNode {
			p.errorf(tn, f, "want a test (a mapping)")
			continue
		}
		tc := Test{Name: fmt.Sprintf("#%d", i+1), Source: fmt.Sprintf("%s:%d", p.name, tn.Line)}
		var evNode, fileNode *yaml.Node
		hasExpect := false
		seen := map[string]bool{}
		for j := 0; j+1 < len(tn.Content); j += 2 {
			k, v := tn.Content[j], tn.Content[j+1]
			kf := joinField(f, k.Value)
			if seen[k.Value] {
				p.errorf(k, kf, "duplicate key")
				continue
			}
			seen[k.Value] = true
			switch k.Value {
			case "name":
				if s, ok := p.stringValue(v, kf); ok {
					tc.Name = s
				}
			case "expect":
				if b, ok := p.boolValue(v, kf); ok {
					tc.Expect, hasExpect = b, true
				}
			case "event":
				evNode = resolve(v)
			case "event_file":
				fileNode = resolve(v)
			default:
				p.errorf(k, kf, "unknown key")
			}
		}
		if !hasExpect && !seen["expect"] {
			p.errorf(tn, joinField(f, "expect"), "missing")
		}
		switch {
		case evNode != nil && fileNode != nil:
			p.errorf(fileNode, joinField(f, "event_file"), "give event or event_file, not both")
			continue
		case evNode == nil && fileNode == nil:
			p.errorf(tn, joinField(f, "event"), "missing (give event or event_file)")
			continue
		}
		var jv *jval
		var at *yaml.Node
		var ef string
		if evNode != nil {
			at, ef = evNode, joinField(f, "event")
			var err error
			jv, err = p.eventValue(evNode, ef)
			if err != nil {
				p.nodeErr(err)
				continue
			}
		} else {
			at, ef = fileNode, joinField(f, "event_file")
			name, ok := p.stringValue(fileNode, ef)
			if !ok {
				continue
			}
			data, err := p.readFile(name)
			if err != nil {
				p.errorf(fileNode, ef, "%v", err)
				continue
			}
			jv, err = parseJSON(data)
			if err != nil {
				p.errorf(fileNode, ef, "%s: %v", name, err)
				continue
			}
		}
		ev, err := buildEvent(jv)
		if err != nil {
			p.errorf(at, ef, "%v", err)
			continue
		}
		ev.Origin = event.Origin{Name: tc.Source, Index: i}
		tc.Event = ev
		r.Tests = append(r.Tests, tc)
	}
}

func (p *fileParser) eventValue(v *yaml.Node, field string) (*jval, error) {
	switch {
	case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str":
		jv, err := parseJSON([]byte(v.Value))
		if err != nil {
			return nil, errAt(v, field, "bad JSON: %v", err)
		}
		return jv, nil
	case v.Kind == yaml.MappingNode:
		return fromYAML(v, field)
	}
	return nil, errAt(v, field, "want a mapping (or a JSON string)")
}

// buildEvent makes an Event of a test's JSON: an EventBridge envelope when
// it has "detail-type", else a CloudTrail record.
func buildEvent(jv *jval) (*event.Event, error) {
	if jv.kind != jObject {
		return nil, errors.New("want a JSON object (a CloudTrail record or an EventBridge event)")
	}
	b := jv.JSON()
	if jv.hasKey("detail-type") {
		return event.FromEnvelope(b)
	}
	return event.FromRecord(b)
}
