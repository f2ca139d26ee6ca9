package rule

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"
	"time"

	"github.com/trailwatch/trailwatch/internal/event"
)

// The default summary, used when a rule has none.
const defaultSummary = `{{.event_name}} by {{.principal_arn}} from {{.source_ip}}{{if .error_code}} ({{.error_code}}){{end}}`

// Internal function names the template rewrite inserts. They are not meant
// to be called by rule authors.
const (
	fnField = "tw_field"
)

// summaryFuncs are the functions a summary template may use.
func summaryFuncs() template.FuncMap {
	return template.FuncMap{
		fnField: lookupPath,
		// index replaces the builtin so that a missing key is empty, not
		// "<no value>".
		"index": func(v any, keys ...any) any {
			for _, k := range keys {
				if r, ok := v.(*summaryRoot); ok {
					v = r.all()
				}
				switch m := v.(type) {
				case map[string]any:
					s, ok := k.(string)
					if !ok {
						return ""
					}
					v = m[s]
				case []any:
					i, ok := toInt(k)
					if !ok || i < 0 || i >= len(m) {
						return ""
					}
					v = m[i]
				default:
					return ""
				}
			}
			if v == nil {
				return ""
			}
			return v
		},
		"json": func(v any) string {
			if r, ok := v.(*summaryRoot); ok {
				v = r.all()
			}
			b, err := json.Marshal(v)
			if err != nil {
				return ""
			}
			return string(b)
		},
		"default": func(def string, v any) any {
			if isEmpty(v) {
				return def
			}
			return v
		},
		"lower": strings.ToLower,
		"upper": strings.ToUpper,
		"join": func(sep string, v any) string {
			xs, ok := v.([]any)
			if !ok {
				if isEmpty(v) {
					return ""
				}
				return fmt.Sprint(v)
			}
			ss := make([]string, len(xs))
			for i, x := range xs {
				ss[i] = fmt.Sprint(x)
			}
			return strings.Join(ss, sep)
		},
	}
}

func toInt(k any) (int, bool) {
	switch k := k.(type) {
	case int:
		return k, true
	case json.Number:
		i, err := k.Int64()
		return int(i), err == nil
	}
	return 0, false
}

func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	switch v := v.(type) {
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// lookupPath walks keys down maps from v; a missing key or a JSON null gives
// "" so that templates render missing values as empty text.
func lookupPath(v any, keys ...string) any {
	if r, ok := v.(*summaryRoot); ok {
		if len(keys) == 0 {
			return r.all()
		}
		f, ok := convenienceKeys[keys[0]]
		if !ok {
			return r.path(keys)
		}
		v, keys = f(r), keys[1:]
	}
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v, ok = m[k]
		if !ok {
			return ""
		}
	}
	if v == nil {
		return ""
	}
	return v
}

// compileSummary parses a summary template and rewrites every field chain
// (.a.b.c, $x.a.b) into a call of lookupPath, so that a missing value
// renders as empty text instead of "<no value>" or failing with "nil
// pointer evaluating interface {}.b".
func compileSummary(name, src string) (*template.Template, error) {
	t, err := template.New(name).Funcs(summaryFuncs()).Option("missingkey=zero").Parse(src)
	if err != nil {
		return nil, err
	}
	for _, tt := range t.Templates() {
		if tt.Tree != nil && tt.Tree.Root != nil {
			rewriteNode(tt.Tree.Root)
		}
	}
	return t, nil
}

func rewriteNode(n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			rewriteNode(c)
		}
	case *parse.ActionNode:
		rewritePipe(n.Pipe)
	case *parse.IfNode:
		rewriteBranch(&n.BranchNode)
	case *parse.RangeNode:
		rewriteBranch(&n.BranchNode)
	case *parse.WithNode:
		rewriteBranch(&n.BranchNode)
	case *parse.TemplateNode:
		rewritePipe(n.Pipe)
	}
}

func rewriteBranch(b *parse.BranchNode) {
	rewritePipe(b.Pipe)
	rewriteNode(b.List)
	if b.ElseList != nil {
		rewriteNode(b.ElseList)
	}
}

func rewritePipe(p *parse.PipeNode) {
	if p == nil {
		return
	}
	for _, c := range p.Cmds {
		for i, a := range c.Args {
			c.Args[i] = rewriteArg(a, i == 0 && len(c.Args) > 1)
		}
	}
}

// rewriteArg turns a field chain into (tw_field <receiver> "a" "b"). A field
// that is the first word of a command with arguments would be a method call;
// it is left alone.
func rewriteArg(a parse.Node, isCall bool) parse.Node {
	switch a := a.(type) {
	case *parse.PipeNode:
		rewritePipe(a)
		return a
	case *parse.ChainNode:
		if p, ok := a.Node.(*parse.PipeNode); ok {
			rewritePipe(p)
		}
		return a
	case *parse.FieldNode:
		if isCall {
			return a
		}
		return pathCall(a.Position(), &parse.DotNode{NodeType: parse.NodeDot, Pos: a.Position()}, a.Ident)
	case *parse.VariableNode:
		if isCall || len(a.Ident) < 2 {
			return a
		}
		v := &parse.VariableNode{NodeType: parse.NodeVariable, Pos: a.Position(), Ident: a.Ident[:1]}
		return pathCall(a.Position(), v, a.Ident[1:])
	}
	return a
}

func pathCall(pos parse.Pos, recv parse.Node, keys []string) parse.Node {
	args := []parse.Node{&parse.IdentifierNode{NodeType: parse.NodeIdentifier, Pos: pos, Ident: fnField}, recv}
	for _, k := range keys {
		args = append(args, &parse.StringNode{NodeType: parse.NodeString, Pos: pos, Quoted: fmt.Sprintf("%q", k), Text: k})
	}
	cmd := &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos, Args: args}
	return &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Cmds: []*parse.CommandNode{cmd}}
}

// summaryRoot is what a summary template sees as dot: the EventBridge
// envelope plus convenience keys from the event's facts. Both are computed
// on first use, so a template that names only convenience keys never
// decodes the event.
type summaryRoot struct {
	ev       *event.Event
	facts    *event.Facts
	envelope map[string]any // decoded on first use
	decoded  bool
}

// convenienceKeys are the summary keys computed from the event rather than
// read from its JSON.
var convenienceKeys = map[string]func(*summaryRoot) string{
	"principal":      func(r *summaryRoot) string { return r.fact().Principal },
	"principal_type": func(r *summaryRoot) string { return r.fact().PrincipalType },
	"principal_arn":  func(r *summaryRoot) string { return r.fact().PrincipalARN },
	"access_key_id":  func(r *summaryRoot) string { return r.fact().AccessKeyID },
	"source_ip":      func(r *summaryRoot) string { return r.fact().SourceIP },
	"user_agent":     func(r *summaryRoot) string { return r.fact().UserAgent },
	"mfa":            func(r *summaryRoot) string { return r.fact().MFA },
	"event_name":     func(r *summaryRoot) string { return r.fact().EventName },
	"event_source":   func(r *summaryRoot) string { return r.fact().EventSource },
	"error_code":     func(r *summaryRoot) string { return r.fact().ErrorCode },
	"error_message":  func(r *summaryRoot) string { return r.fact().ErrorMessage },
	"outcome":        func(r *summaryRoot) string { return r.fact().Outcome },
	"event_id":       func(r *summaryRoot) string { return r.ev.Key() },
	"account":        func(r *summaryRoot) string { return r.ev.Account },
	"region":         func(r *summaryRoot) string { return r.ev.Region },
	"time": func(r *summaryRoot) string {
		if r.ev.Time.IsZero() {
			return ""
		}
		return r.ev.Time.UTC().Format(time.RFC3339)
	},
}

func (r *summaryRoot) fact() *event.Facts {
	if r.facts == nil {
		f := r.ev.Facts()
		r.facts = &f
	}
	return r.facts
}

// env returns the decoded EventBridge envelope.
func (r *summaryRoot) env() map[string]any {
	if !r.decoded {
		r.decoded = true
		if len(r.ev.JSON) > 0 {
			d := json.NewDecoder(bytes.NewReader(r.ev.JSON))
			d.UseNumber()
			_ = d.Decode(&r.envelope) // the matcher already read it as JSON
		}
	}
	return r.envelope
}

// path returns the envelope's value at a path of keys, decoding only that
// value; "" when it is missing or null.
func (r *summaryRoot) path(keys []string) any {
	raw, ok := event.Lookup(r.ev.JSON, keys...)
	if !ok {
		return ""
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil || v == nil {
		return ""
	}
	return v
}

// all returns the whole of what the template sees, as one map.
func (r *summaryRoot) all() map[string]any {
	m := map[string]any{}
	for k, v := range r.env() {
		m[k] = v
	}
	for k, f := range convenienceKeys {
		if _, ok := m[k]; !ok {
			m[k] = f(r)
		}
	}
	return m
}

// String is what {{.}} prints.
func (r *summaryRoot) String() string {
	b, _ := json.Marshal(r.all())
	return string(b)
}

// summaryData is what a summary template sees. f, when not nil, is the
// event's facts, already read.
func summaryData(ev *event.Event, f *event.Facts) *summaryRoot {
	return &summaryRoot{ev: ev, facts: f}
}

func (r *Rule) renderSummary(ev *event.Event, f *event.Facts) (string, error) {
	t := r.summary
	if t == nil {
		return r.Name, nil
	}
	var b strings.Builder
	if err := t.Execute(&b, summaryData(ev, f)); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Summary renders the rule's summary template over ev. A missing value
// renders as empty text. If the template fails on this event, Summary
// returns the rule's name and the error, so an alert always has a summary.
func (r *Rule) Summary(ev *event.Event) string { return r.SummaryWith(ev, nil) }

// SummaryWith is Summary for a caller that has already read the event's
// facts (f may be nil).
func (r *Rule) SummaryWith(ev *event.Event, f *event.Facts) string {
	s, err := r.renderSummary(ev, f)
	if err != nil {
		return fmt.Sprintf("%s (summary: %v)", r.Name, err)
	}
	return s
}
