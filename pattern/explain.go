package pattern

import (
	"fmt"
	"strconv"
)

// Explanation says which conditions of an event pattern an event meets and
// which it does not, like the AWS console's "Test pattern". It is the
// pattern's top level as a Branch: its Matched is exactly what Matches
// answers.
//
// For rendering, Rows lists everything in display order with a depth; the
// fields and slices can also be walked directly (no maps).
type Explanation struct {
	Branch
}

// Branch is a conjunction of conditions: the top level of a pattern, or
// one branch of a $or.
type Branch struct {
	// Matched is the real matcher's verdict on this branch alone (for the
	// top level, on the whole pattern).
	Matched bool
	// Conditions are the branch's leaf conditions outside any $or, in the
	// pattern's order.
	Conditions []Condition
	// Groups are the $or groups of the branch, in the pattern's order;
	// each must have a matching branch.
	Groups []Group
	// Note explains a verdict the lines above do not show on their own:
	// every condition and group holds but Matched is false (array
	// consistency), or one fails and Matched is true. Empty otherwise.
	Note string
}

// Group is one $or: it matches when one of its branches does.
type Group struct {
	// Path is the dotted path of the object holding the $or ("" at the
	// top level); the branches' fields are below it.
	Path     string
	Matched  bool
	Branches []Branch
}

// Condition is one leaf of a pattern: a field path and its array of match
// values, tested alone against the event.
type Condition struct {
	// Path is the dotted field path, e.g. detail.userIdentity.type.
	Path string
	// Leaf is the condition as the pattern writes it, as compact JSON:
	// ["Root"] or [{"anything-but":["x"]}].
	Leaf string
	// Values are the JSON texts of the event's values at Path, in event
	// order, as the matcher sees them: leaves only (strings, numbers,
	// true, false, null), array elements one by one. None when the event
	// has no value there.
	Values []string
	// Matched reports whether the condition alone matches the event.
	Matched bool
	// Replaced reports that a later condition on the same path in the same
	// branch replaces this one (duplicate keys: the last one wins), so it
	// takes no part in matching.
	Replaced bool
}

// Notes set on a Branch whose verdict its conditions do not show.
const (
	NoteArrayConsistency = "Each condition holds on its own, but not all in the same element of an array: " +
		"conditions on fields of objects inside one array must all hold in one element of it (EventBridge's array consistency)."
	NoteAbsentInArray = "It matches although a condition above does not: an exists:false condition on a field inside an array " +
		"is judged only against the array element the other conditions matched in."
	NoteReplacedInOr = "A field is named both inside and outside a $or; in each combination only the condition written last counts, " +
		"so the conditions above do not combine as shown."
)

// Explain tests the event against the pattern and against each of its
// conditions and $or branches alone, with the real matcher (Matches on
// the condition's or branch's own sub-pattern), so every verdict is the
// matcher's. It works from the pattern's text (String): a pattern
// compiled from rewritten text is explained as compiled.
//
// An event that is not a JSON object gives the error Matches gives.
func Explain(p *Pattern, event []byte) (*Explanation, error) {
	matched, err := Matches(p, event)
	if err != nil {
		return nil, err
	}
	root, err := parseTree([]byte(p.src))
	if err != nil {
		return nil, fmt.Errorf("explain: re-reading the pattern: %w", err)
	}
	x := &explainer{event: event}
	e := &Explanation{}
	if err := x.object(&e.Branch, map[string]int{}, "", root); err != nil {
		return nil, err
	}
	e.Matched = matched
	e.Note = branchNote(&e.Branch)
	return e, nil
}

type explainer struct {
	event []byte
}

// object adds the conditions and $or groups of obj (at path) to b; byPath
// indexes b's conditions by path, to mark replaced ones.
func (x *explainer) object(b *Branch, byPath map[string]int, path string, obj *jval) error {
	for i, k := range obj.keys {
		v := obj.items[i]
		if k == "$or" {
			g := Group{Path: path}
			for _, item := range v.items {
				var br Branch
				if err := x.object(&br, map[string]int{}, path, item); err != nil {
					return err
				}
				ok, err := x.matches(wrap(path, appendJSON(nil, item)))
				if err != nil {
					return err
				}
				br.Matched = ok
				br.Note = branchNote(&br)
				g.Matched = g.Matched || ok
				g.Branches = append(g.Branches, br)
			}
			b.Groups = append(b.Groups, g)
			continue
		}
		name := joinPath(path, k)
		if v.kind == jObject {
			if err := x.object(b, byPath, name, v); err != nil {
				return err
			}
			continue
		}
		c, err := x.condition(name, v)
		if err != nil {
			return err
		}
		if j, ok := byPath[name]; ok {
			b.Conditions[j].Replaced = true
		}
		byPath[name] = len(b.Conditions)
		b.Conditions = append(b.Conditions, c)
	}
	return nil
}

// condition tests one leaf alone: the pattern {path: leaf}.
func (x *explainer) condition(path string, leaf *jval) (Condition, error) {
	c := Condition{Path: path, Leaf: string(appendJSON(nil, leaf))}
	src := appendQuoted([]byte{'{'}, path)
	src = append(src, ':')
	src = append(append(src, c.Leaf...), '}')
	p, err := Parse(src)
	if err != nil {
		return c, fmt.Errorf("explain: condition %s: %w", src, err)
	}
	if c.Matched, err = Matches(p, x.event); err != nil {
		return c, err
	}
	c.Values = fieldValues(p.m, x.event)
	return c, nil
}

// matches runs the real matcher on a sub-pattern.
func (x *explainer) matches(src []byte) (bool, error) {
	p, err := Parse(src)
	if err != nil {
		return false, fmt.Errorf("explain: sub-pattern %s: %w", src, err)
	}
	return Matches(p, x.event)
}

// wrap puts an object's JSON text at a dotted path.
func wrap(path string, obj []byte) []byte {
	if path == "" {
		return obj
	}
	src := appendQuoted([]byte{'{'}, path)
	src = append(src, ':')
	return append(append(src, obj...), '}')
}

// fieldValues returns the JSON text of the event's values of the only
// field of m, in event order, as m's scanner records them.
func fieldValues(m *Matcher, event []byte) []string {
	s := m.getScratch()
	defer m.pool.Put(s)
	if len(m.fields) != 1 || m.run(event, s) != nil || s.fieldEpoch[0] != s.epoch {
		return nil
	}
	var out []string
	for v := s.fieldHead[0]; v >= 0; v = s.vals[v].next {
		out = append(out, valueJSON(&s.vals[v]))
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func valueJSON(v *valRec) string {
	switch v.kind {
	case vString:
		return string(appendQuoted(nil, string(v.str)))
	case vNumber:
		return string(v.str)
	case vTrue:
		return "true"
	case vFalse:
		return "false"
	}
	return "null"
}

// branchNote explains a branch whose verdict differs from what its
// conditions and groups show.
func branchNote(b *Branch) string {
	shown := true
	for _, c := range b.Conditions {
		if !c.Replaced && !c.Matched {
			shown = false
		}
	}
	for _, g := range b.Groups {
		if !g.Matched {
			shown = false
		}
	}
	switch {
	case shown == b.Matched:
		return ""
	case shown:
		return NoteArrayConsistency
	case replacedAcrossOr(b):
		return NoteReplacedInOr
	}
	return NoteAbsentInArray
}

// replacedAcrossOr reports whether one path is named in two of: b's own
// conditions, and each of b's $or groups (anywhere below it). Then the
// condition written later replaces the other in the combinations holding
// both, which the branch's lines cannot show.
func replacedAcrossOr(b *Branch) bool {
	seen := map[string]int{} // path -> region: 0 own, i+1 group i
	for _, c := range b.Conditions {
		seen[c.Path] = 0
	}
	for i := range b.Groups {
		paths := map[string]bool{}
		for j := range b.Groups[i].Branches {
			pathsUnder(&b.Groups[i].Branches[j], paths)
		}
		for p := range paths {
			if r, ok := seen[p]; ok && r != i+1 {
				return true
			}
			seen[p] = i + 1
		}
	}
	return false
}

// pathsUnder adds the paths of every condition of b, at any depth.
func pathsUnder(b *Branch, into map[string]bool) {
	for _, c := range b.Conditions {
		into[c.Path] = true
	}
	for _, g := range b.Groups {
		for j := range g.Branches {
			pathsUnder(&g.Branches[j], into)
		}
	}
}

// Row is one line of an Explanation in display order.
type Row struct {
	// Depth is the nesting level: 0 at the top; a group's branches are one
	// deeper than the group, a branch's conditions and groups one deeper
	// than the branch.
	Depth int
	// Exactly one of Condition, Group and Branch is set.
	Condition *Condition
	Group     *Group
	Branch    *Branch
	// Index is a branch's number in its group, from 1.
	Index int
}

// Rows lists the explanation for display: the top level's conditions,
// then each $or group followed by its branches, each branch followed by
// its own conditions and groups.
func (b *Branch) Rows() []Row {
	return b.appendRows(nil, 0)
}

func (b *Branch) appendRows(rows []Row, depth int) []Row {
	for i := range b.Conditions {
		rows = append(rows, Row{Depth: depth, Condition: &b.Conditions[i]})
	}
	for i := range b.Groups {
		g := &b.Groups[i]
		rows = append(rows, Row{Depth: depth, Group: g})
		for j := range g.Branches {
			br := &g.Branches[j]
			rows = append(rows, Row{Depth: depth + 1, Branch: br, Index: j + 1})
			rows = br.appendRows(rows, depth+2)
		}
	}
	return rows
}

// appendJSON appends v as compact JSON. Strings keep their bytes (only
// quotes, backslashes and control characters are escaped), numbers their
// text, objects their keys in order with duplicates, so the text parses
// back to the same pattern.
func appendJSON(b []byte, v *jval) []byte {
	switch v.kind {
	case jObject:
		b = append(b, '{')
		for i, k := range v.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendQuoted(b, k)
			b = append(b, ':')
			b = appendJSON(b, v.items[i])
		}
		return append(b, '}')
	case jArray:
		b = append(b, '[')
		for i, it := range v.items {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, it)
		}
		return append(b, ']')
	case jString:
		return appendQuoted(b, v.str)
	}
	return append(b, v.text()...)
}

// appendQuoted appends s as a JSON string, keeping its bytes as they are
// except for the escapes JSON requires.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0')
			b = strconv.AppendUint(b, uint64(c>>4), 16)
			b = strconv.AppendUint(b, uint64(c&0xf), 16)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
