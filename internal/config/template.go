package config

import (
	"encoding/base64"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/trailwatch/trailwatch/internal/rule"
)

// tmpl is one CloudFormation template being loaded.
type tmpl struct {
	file   string
	l      *errList
	stack  string
	params map[string]string // given values (--parameter)

	pseudo    map[string]*tval
	paramVals map[string]*tval // declared parameters' values
	declared  map[string]bool

	mappings   *tval
	conditions *tval
	condVals   map[string]bool
	condState  map[string]int

	resources map[string]*resource
	order     []string
	arnIndex  map[string]string // a resource's Ref or Arn value -> logical ID

	out templateResult
}

type resource struct {
	id    string
	typ   string
	node  *tval
	props *tval
	p     pos
	// created is false for a resource whose Condition is false.
	created bool
	// names: 0 not computed, 1 computing, 2 done.
	nameState int
	name      string
	// evaluated are the properties with intrinsics resolved.
	evaluated *tval
}

// templateResult is what a template contributes to the Config.
type templateResult struct {
	rules      []*rule.Rule
	receivers  []receiverItem
	routes     []routeItem
	skipped    []string
	declared   map[string]bool
	topics     map[string][]string
	filters    []filterItem
	alarms     []alarmItem
	composites []compositeItem
	schedules  []scheduleItem
}

func (t *tmpl) errorf(p pos, field, format string, args ...any) {
	t.l.add(t.file, p, field, nil, format, args...)
}

func (t *tmpl) errorIs(p pos, field string, sentinel error, format string, args ...any) {
	t.l.add(t.file, p, field, sentinel, format, args...)
}

// source is where a resource is written, as file:line.
func (t *tmpl) source(p pos) string {
	if p.file != "" {
		return fmt.Sprintf("%s:%d", p.file, p.line)
	}
	return fmt.Sprintf("%s:%d", t.file, p.line)
}

func (t *tmpl) skip(format string, args ...any) {
	t.out.skipped = append(t.out.skipped, t.file+": "+fmt.Sprintf(format, args...))
}

var stackNameClean = regexp.MustCompile(`[^A-Za-z0-9-]+`)

// defaultStackName makes a stack name of a template's file name.
func defaultStackName(file string) string {
	base := filepath.Base(file)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	s := strings.Trim(stackNameClean.ReplaceAllString(base, "-"), "-")
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		s = "stack-" + s
	}
	if len(s) > 128 {
		s = s[:128]
	}
	return s
}

func partitionOf(region string) (string, string) {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn", "amazonaws.com.cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov", "amazonaws.com"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso", "c2s.ic.gov"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b", "sc2s.sgov.gov"
	}
	return "aws", "amazonaws.com"
}

func (t *tmpl) setPseudo() {
	get := func(k, def string) string {
		if v, ok := t.params[k]; ok && v != "" {
			return v
		}
		return def
	}
	region := get("AWS::Region", "us-east-1")
	part, suffix := partitionOf(region)
	part = get("AWS::Partition", part)
	suffix = get("AWS::URLSuffix", suffix)
	account := get("AWS::AccountId", "123456789012")
	t.stack = get("AWS::StackName", defaultStackName(t.file))
	stackID := get("AWS::StackId", fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/00000000-0000-0000-0000-000000000000", part, region, account, t.stack))
	t.pseudo = map[string]*tval{
		"AWS::Region":           strVal(region, pos{}, false),
		"AWS::Partition":        strVal(part, pos{}, false),
		"AWS::URLSuffix":        strVal(suffix, pos{}, false),
		"AWS::AccountId":        strVal(account, pos{}, false),
		"AWS::StackName":        strVal(t.stack, pos{}, false),
		"AWS::StackId":          strVal(stackID, pos{}, false),
		"AWS::NotificationARNs": {kind: vList},
	}
}

func (t *tmpl) region() string    { return t.pseudo["AWS::Region"].s }
func (t *tmpl) account() string   { return t.pseudo["AWS::AccountId"].s }
func (t *tmpl) partition() string { return t.pseudo["AWS::Partition"].s }

var templateKeys = map[string]bool{
	"AWSTemplateFormatVersion": true, "Description": true, "Metadata": true, "Parameters": true,
	"Rules": true, "Mappings": true, "Conditions": true, "Transform": true, "Resources": true, "Outputs": true,
}

// loadTemplate reads one template.
func loadTemplate(l *errList, file string, data []byte, params map[string]string) *templateResult {
	t := &tmpl{
		file: file, l: l, params: params,
		paramVals: map[string]*tval{}, declared: map[string]bool{},
		condVals: map[string]bool{}, condState: map[string]int{},
		resources: map[string]*resource{}, arnIndex: map[string]string{},
	}
	t.out.declared = t.declared
	t.out.topics = map[string][]string{}
	t.setPseudo()
	node := parseYAML(l, file, data)
	if node == nil {
		return &t.out
	}
	c := &converter{t: t}
	root := c.conv(node, 0)
	if root.kind != vMap {
		t.errorf(root.p, "", "want a template (a mapping with Resources)")
		return &t.out
	}
	for i, k := range root.keys {
		if !templateKeys[k] {
			t.errorf(root.vals[i].p, k, "unknown template section")
		}
	}
	if v := root.get("AWSTemplateFormatVersion"); v != nil && v.s != "2010-09-09" {
		t.errorf(v.p, "AWSTemplateFormatVersion", "want 2010-09-09")
	}
	if v := root.get("Transform"); v != nil {
		t.skip("Transform: template macros are not run; the template is read as written")
	}
	if v := root.get("Rules"); v != nil {
		t.skip("Rules: template rules (parameter assertions) are not checked")
	}
	t.parameters(root.get("Parameters"))
	t.mappings = root.get("Mappings")
	if t.mappings != nil && t.mappings.kind != vMap {
		t.errorf(t.mappings.p, "Mappings", "want a mapping")
		t.mappings = nil
	}
	t.conditions = root.get("Conditions")
	if t.conditions != nil {
		if t.conditions.kind != vMap {
			t.errorf(t.conditions.p, "Conditions", "want a mapping")
			t.conditions = nil
		} else {
			for _, name := range t.conditions.keys {
				t.condition(name, t.conditions.p, "Conditions."+name)
			}
		}
	}
	res := root.get("Resources")
	if res == nil || res.kind != vMap || len(res.keys) == 0 {
		p := root.p
		if res != nil {
			p = res.p
		}
		t.errorf(p, "Resources", "want at least one resource")
		return &t.out
	}
	t.readResources(res)
	t.build()
	t.outputs(root.get("Outputs"))
	return &t.out
}

var logicalIDRE = regexp.MustCompile(`^[A-Za-z0-9]+$`)

var resourceKeys = map[string]bool{
	"Type": true, "Properties": true, "DependsOn": true, "Condition": true, "Metadata": true,
	"DeletionPolicy": true, "UpdateReplacePolicy": true, "UpdatePolicy": true, "CreationPolicy": true,
}

func (t *tmpl) readResources(res *tval) {
	for i, id := range res.keys {
		v := res.vals[i]
		field := "Resources." + id
		if !logicalIDRE.MatchString(id) {
			t.errorf(v.p, field, "logical ID must be alphanumeric")
		}
		if _, dup := t.paramVals[id]; dup {
			t.errorf(v.p, field, "logical ID is also a parameter's name")
		}
		if v.kind != vMap {
			t.errorf(v.p, field, "want a mapping with Type and Properties")
			continue
		}
		r := &resource{id: id, node: v, p: v.p, created: true}
		for j, k := range v.keys {
			if !resourceKeys[k] {
				t.errorf(v.vals[j].p, field+"."+k, "unknown resource attribute")
			}
		}
		typ := v.get("Type")
		if typ == nil || typ.kind != vScalar || typ.s == "" {
			t.errorf(v.p, field+".Type", "missing")
			continue
		}
		r.typ = typ.s
		r.props = v.get("Properties")
		if r.props != nil && r.props.kind != vMap && !r.props.isNull() {
			t.errorf(r.props.p, field+".Properties", "want a mapping")
			r.props = nil
		}
		if r.props.isNull() {
			r.props = &tval{kind: vMap, p: v.p}
		}
		t.resources[id] = r
		t.order = append(t.order, id)
	}
	for _, id := range t.order {
		r := t.resources[id]
		field := "Resources." + id
		if c := r.node.get("Condition"); c != nil {
			if c.kind != vScalar {
				t.errorf(c.p, field+".Condition", "want a condition name")
			} else {
				r.created = t.condition(c.s, c.p, field+".Condition")
			}
		}
		if d := r.node.get("DependsOn"); d != nil {
			deps := []*tval{d}
			if d.kind == vList {
				deps = d.list
			}
			for _, dep := range deps {
				if dep.kind != vScalar || t.resources[dep.s] == nil {
					t.errorf(dep.p, field+".DependsOn", "no resource named %s", dep.show())
				}
			}
		}
	}
}

// condition evaluates a named condition.
func (t *tmpl) condition(name string, p pos, field string) bool {
	switch t.condState[name] {
	case 2:
		return t.condVals[name]
	case 1:
		t.errorf(p, field, "condition %s refers to itself", name)
		return false
	}
	expr := t.conditions.get(name)
	if expr == nil {
		t.errorf(p, field, "no condition named %q", name)
		t.condState[name] = 2
		return false
	}
	t.condState[name] = 1
	v := t.condExpr(expr, "Conditions."+name)
	t.condState[name] = 2
	t.condVals[name] = v
	return v
}

func (t *tmpl) condExpr(v *tval, field string) bool {
	if v.kind != vMap || len(v.keys) != 1 {
		t.errorf(v.p, field, "want a condition function (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition)")
		return false
	}
	fn, arg := v.keys[0], v.vals[0]
	switch fn {
	case "Condition":
		if arg.kind != vScalar {
			t.errorf(arg.p, field, "Condition: want a condition name")
			return false
		}
		return t.condition(arg.s, arg.p, field)
	case "Fn::Equals":
		if arg.kind != vList || len(arg.list) != 2 {
			t.errorf(arg.p, field, "Fn::Equals: want a list of two values")
			return false
		}
		a, okA := t.eval(arg.list[0], field)
		b, okB := t.eval(arg.list[1], field)
		if !okA || !okB {
			return false
		}
		return equalValues(a, b)
	case "Fn::Not":
		if arg.kind != vList || len(arg.list) != 1 {
			t.errorf(arg.p, field, "Fn::Not: want a list of one condition")
			return false
		}
		return !t.condExpr(arg.list[0], field)
	case "Fn::And", "Fn::Or":
		if arg.kind != vList || len(arg.list) < 2 || len(arg.list) > 10 {
			t.errorf(arg.p, field, "%s: want a list of 2 to 10 conditions", fn)
			return false
		}
		and := fn == "Fn::And"
		res := and
		for _, c := range arg.list {
			x := t.condExpr(c, field)
			if and {
				res = res && x
			} else {
				res = res || x
			}
		}
		return res
	}
	t.errorf(v.p, field, "%s is not a condition function", fn)
	return false
}

func equalValues(a, b *tval) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case vScalar:
		return a.s == b.s
	case vList:
		if len(a.list) != len(b.list) {
			return false
		}
		for i := range a.list {
			if !equalValues(a.list[i], b.list[i]) {
				return false
			}
		}
		return true
	}
	if len(a.keys) != len(b.keys) {
		return false
	}
	for i, k := range a.keys {
		if !equalValues(a.vals[i], b.get(k)) {
			return false
		}
	}
	return true
}

var paramKeys = map[string]bool{
	"Type": true, "Default": true, "Description": true, "AllowedPattern": true, "AllowedValues": true,
	"ConstraintDescription": true, "MaxLength": true, "MinLength": true, "MaxValue": true, "MinValue": true, "NoEcho": true,
}

// parameters reads the Parameters section and the values given for them.
func (t *tmpl) parameters(ps *tval) {
	if ps == nil {
		return
	}
	if ps.kind != vMap {
		t.errorf(ps.p, "Parameters", "want a mapping")
		return
	}
	for i, name := range ps.keys {
		def := ps.vals[i]
		field := "Parameters." + name
		t.declared[name] = true
		if !logicalIDRE.MatchString(name) {
			t.errorf(def.p, field, "parameter name must be alphanumeric")
		}
		if def.kind != vMap {
			t.errorf(def.p, field, "want a mapping with Type")
			continue
		}
		for j, k := range def.keys {
			if !paramKeys[k] {
				t.errorf(def.vals[j].p, field+"."+k, "unknown parameter attribute")
			}
			if def.vals[j].kind == vMap {
				t.errorf(def.vals[j].p, field+"."+k, "want a value, not a mapping (intrinsic functions are not allowed here)")
			}
		}
		typ := scalarOf(def.get("Type"))
		noEcho := strings.EqualFold(scalarOf(def.get("NoEcho")), "true")
		var raw string
		given, ok := t.params[name]
		switch {
		case ok:
			raw = given
		case def.get("Default") != nil && def.get("Default").kind == vScalar && !def.get("Default").isNull():
			raw = def.get("Default").s
		case def.get("Default") != nil && def.get("Default").kind == vList:
			var parts []string
			for _, e := range def.get("Default").list {
				parts = append(parts, e.s)
			}
			raw = strings.Join(parts, ",")
		default:
			t.errorIs(def.p, field, ErrMissingParameter, "no value given (--parameter %s=VALUE) and no Default", name)
			t.paramVals[name] = strVal("", def.p, noEcho)
			continue
		}
		isList := typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<")
		isNumber := typ == "Number" || typ == "List<Number>"
		switch {
		case typ == "":
			t.errorf(def.p, field+".Type", "missing")
		case typ == "String", typ == "Number", typ == "CommaDelimitedList", typ == "List<Number>":
		case strings.HasPrefix(typ, "AWS::SSM::Parameter::"):
			t.errorf(def.get("Type").p, field+".Type", "SSM parameter types are not supported: give the value with a plain String parameter")
		case strings.HasPrefix(typ, "AWS::"), strings.HasPrefix(typ, "List<AWS::"):
			// AWS-specific types are strings (or lists) whose existence
			// AWS would check; here they are taken as given.
		default:
			t.errorf(def.get("Type").p, field+".Type", "unknown parameter type %q", typ)
		}
		var items []string
		var v *tval
		if isList {
			v = &tval{kind: vList, p: def.p, secret: noEcho}
			if raw != "" {
				for _, s := range strings.Split(raw, ",") {
					s = strings.TrimSpace(s)
					items = append(items, s)
					v.list = append(v.list, strVal(s, def.p, noEcho))
				}
			}
		} else {
			items = []string{raw}
			v = strVal(raw, def.p, noEcho)
		}
		t.paramVals[name] = v
		t.checkParam(def, field, items, isNumber)
	}
}

func scalarOf(v *tval) string {
	if v == nil || v.kind != vScalar {
		return ""
	}
	return v.s
}

// checkParam checks a parameter's value against its constraints. Values
// are never shown: they may be secrets.
func (t *tmpl) checkParam(def *tval, field string, items []string, isNumber bool) {
	constraint := scalarOf(def.get("ConstraintDescription"))
	fail := func(p pos, f, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if constraint != "" {
			msg += " (" + constraint + ")"
		}
		t.errorf(p, f, "%s", msg)
	}
	var re *regexp.Regexp
	if ap := def.get("AllowedPattern"); ap != nil {
		var err error
		re, err = compileJavaRegexp(ap.s)
		if err != nil {
			t.errorf(ap.p, field+".AllowedPattern", "%v", err)
		}
	}
	var allowed []string
	if av := def.get("AllowedValues"); av != nil {
		if av.kind != vList {
			t.errorf(av.p, field+".AllowedValues", "want a list")
		} else {
			for _, e := range av.list {
				allowed = append(allowed, e.s)
			}
		}
	}
	num := func(k string) (float64, bool) {
		v := def.get(k)
		if v == nil {
			return 0, false
		}
		f, err := strconv.ParseFloat(v.s, 64)
		if err != nil {
			t.errorf(v.p, field+"."+k, "want a number")
			return 0, false
		}
		return f, true
	}
	minLen, hasMinLen := num("MinLength")
	maxLen, hasMaxLen := num("MaxLength")
	minVal, hasMinVal := num("MinValue")
	maxVal, hasMaxVal := num("MaxValue")
	for _, s := range items {
		if isNumber {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				fail(def.p, field, "value is not a number")
				continue
			}
			if hasMinVal && f < minVal {
				fail(def.p, field, "value is less than MinValue %v", minVal)
			}
			if hasMaxVal && f > maxVal {
				fail(def.p, field, "value is greater than MaxValue %v", maxVal)
			}
		}
		n := float64(len([]rune(s)))
		if hasMinLen && n < minLen {
			fail(def.p, field, "value is shorter than MinLength %v", minLen)
		}
		if hasMaxLen && n > maxLen {
			fail(def.p, field, "value is longer than MaxLength %v", maxLen)
		}
		if re != nil && !re.MatchString(s) {
			fail(def.p, field, "value does not match AllowedPattern")
		}
		if allowed != nil {
			found := false
			for _, a := range allowed {
				if a == s {
					found = true
				}
			}
			if !found {
				fail(def.p, field, "value is not one of AllowedValues")
			}
		}
	}
}

// eval resolves intrinsic functions in v. It returns nil for
// AWS::NoValue and false after reporting an error.
func (t *tmpl) eval(v *tval, field string) (*tval, bool) {
	return t.evalDepth(v, field, 0)
}

func (t *tmpl) evalDepth(v *tval, field string, depth int) (*tval, bool) {
	if v == nil {
		return nil, true
	}
	if depth > 100 {
		t.errorf(v.p, field, "too deeply nested")
		return nil, false
	}
	switch v.kind {
	case vScalar:
		return v, true
	case vList:
		out := &tval{kind: vList, p: v.p, secret: v.secret}
		ok := true
		for _, e := range v.list {
			x, eok := t.evalDepth(e, field, depth+1)
			if !eok {
				ok = false
				continue
			}
			if x != nil {
				out.list = append(out.list, x)
				out.secret = out.secret || x.secret
			}
		}
		return out, ok
	}
	if len(v.keys) == 1 && (v.keys[0] == "Ref" || strings.HasPrefix(v.keys[0], "Fn::")) {
		return t.intrinsic(v.keys[0], v.vals[0], v.p, field, depth)
	}
	out := &tval{kind: vMap, p: v.p}
	ok := true
	for i, k := range v.keys {
		x, eok := t.evalDepth(v.vals[i], field, depth+1)
		if !eok {
			ok = false
			continue
		}
		if x != nil {
			out.keys = append(out.keys, k)
			out.vals = append(out.vals, x)
			out.secret = out.secret || x.secret
		}
	}
	return out, ok
}

// evalString resolves v to a string.
func (t *tmpl) evalString(v *tval, field string, depth int) (*tval, bool) {
	x, ok := t.evalDepth(v, field, depth+1)
	if !ok {
		return nil, false
	}
	if x == nil || x.kind != vScalar || x.tag == "null" {
		t.errorf(v.p, field, "want a string")
		return nil, false
	}
	return x, true
}

// evalList resolves v to a list.
func (t *tmpl) evalList(v *tval, field string, depth int) (*tval, bool) {
	x, ok := t.evalDepth(v, field, depth+1)
	if !ok {
		return nil, false
	}
	if x == nil || x.kind != vList {
		t.errorf(v.p, field, "want a list")
		return nil, false
	}
	return x, true
}

func (t *tmpl) intrinsic(fn string, arg *tval, p pos, field string, depth int) (*tval, bool) {
	switch fn {
	case "Ref":
		if arg.kind != vScalar {
			t.errorf(arg.p, field, "Ref: want a parameter or resource name")
			return nil, false
		}
		return t.ref(arg.s, arg.p, field)
	case "Fn::GetAtt":
		var id, attr string
		switch {
		case arg.kind == vScalar:
			id, attr, _ = strings.Cut(arg.s, ".")
		case arg.kind == vList && len(arg.list) == 2 && arg.list[0].kind == vScalar:
			id = arg.list[0].s
			a, ok := t.evalString(arg.list[1], field, depth)
			if !ok {
				return nil, false
			}
			attr = a.s
		}
		if id == "" || attr == "" {
			t.errorf(arg.p, field, "Fn::GetAtt: want [LogicalID, Attribute] or LogicalID.Attribute")
			return nil, false
		}
		return t.getAtt(id, attr, arg.p, field)
	case "Fn::Sub":
		return t.sub(arg, field, depth)
	case "Fn::Join":
		if arg.kind != vList || len(arg.list) != 2 {
			t.errorf(arg.p, field, "Fn::Join: want [delimiter, [values]]")
			return nil, false
		}
		d, ok := t.evalString(arg.list[0], field, depth)
		if !ok {
			return nil, false
		}
		list, ok := t.evalList(arg.list[1], field, depth)
		if !ok {
			return nil, false
		}
		parts := make([]string, 0, len(list.list))
		secret := d.secret || list.secret
		for _, e := range list.list {
			if e.kind != vScalar {
				t.errorf(e.p, field, "Fn::Join: want a list of strings")
				return nil, false
			}
			parts = append(parts, e.s)
			secret = secret || e.secret
		}
		return strVal(strings.Join(parts, d.s), p, secret), true
	case "Fn::If":
		if arg.kind != vList || len(arg.list) != 3 || arg.list[0].kind != vScalar {
			t.errorf(arg.p, field, "Fn::If: want [condition, value if true, value if false]")
			return nil, false
		}
		if t.conditions == nil || t.conditions.get(arg.list[0].s) == nil {
			t.errorf(arg.list[0].p, field, "Fn::If: no condition named %q", arg.list[0].s)
			return nil, false
		}
		if t.condition(arg.list[0].s, arg.list[0].p, field) {
			return t.evalDepth(arg.list[1], field, depth+1)
		}
		return t.evalDepth(arg.list[2], field, depth+1)
	case "Fn::Select":
		if arg.kind != vList || len(arg.list) != 2 {
			t.errorf(arg.p, field, "Fn::Select: want [index, [values]]")
			return nil, false
		}
		idx, ok := t.evalString(arg.list[0], field, depth)
		if !ok {
			return nil, false
		}
		list, ok := t.evalList(arg.list[1], field, depth)
		if !ok {
			return nil, false
		}
		i, err := strconv.Atoi(idx.s)
		if err != nil || i < 0 || i >= len(list.list) {
			t.errorf(arg.p, field, "Fn::Select: index %s out of range (%d values)", idx.show(), len(list.list))
			return nil, false
		}
		return list.list[i], true
	case "Fn::Split":
		if arg.kind != vList || len(arg.list) != 2 {
			t.errorf(arg.p, field, "Fn::Split: want [delimiter, string]")
			return nil, false
		}
		d, ok := t.evalString(arg.list[0], field, depth)
		if !ok {
			return nil, false
		}
		s, ok := t.evalString(arg.list[1], field, depth)
		if !ok {
			return nil, false
		}
		if d.s == "" {
			t.errorf(arg.p, field, "Fn::Split: empty delimiter")
			return nil, false
		}
		out := &tval{kind: vList, p: p, secret: s.secret}
		for _, part := range strings.Split(s.s, d.s) {
			out.list = append(out.list, strVal(part, p, s.secret))
		}
		return out, true
	case "Fn::FindInMap":
		if arg.kind != vList || len(arg.list) != 3 {
			t.errorf(arg.p, field, "Fn::FindInMap: want [map, top-level key, second-level key]")
			return nil, false
		}
		cur := t.mappings
		var names []string
		for _, k := range arg.list {
			ks, ok := t.evalString(k, field, depth)
			if !ok {
				return nil, false
			}
			names = append(names, ks.s)
			cur = cur.get(ks.s)
			if cur == nil {
				t.errorf(arg.p, field, "Fn::FindInMap: no Mappings entry %s", strings.Join(names, "."))
				return nil, false
			}
		}
		return cur, true
	case "Fn::Base64":
		s, ok := t.evalString(arg, field, depth)
		if !ok {
			return nil, false
		}
		return strVal(base64.StdEncoding.EncodeToString([]byte(s.s)), p, s.secret), true
	case "Fn::GetAZs":
		s, ok := t.evalString(arg, field, depth)
		if !ok {
			return nil, false
		}
		region := s.s
		if region == "" {
			region = t.region()
		}
		out := &tval{kind: vList, p: p}
		for _, z := range []string{"a", "b", "c"} {
			out.list = append(out.list, strVal(region+z, p, false))
		}
		return out, true
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or":
		b := t.condExpr(&tval{kind: vMap, keys: []string{fn}, vals: []*tval{arg}, p: p}, field)
		return &tval{kind: vScalar, s: strconv.FormatBool(b), tag: "bool", p: p}, true
	}
	t.errorf(p, field, "%s is not supported", fn)
	return nil, false
}

var subVarRE = regexp.MustCompile(`\$\{([^}]*)\}`)

func (t *tmpl) sub(arg *tval, field string, depth int) (*tval, bool) {
	src := arg
	vars := map[string]*tval{}
	if arg.kind == vList {
		if len(arg.list) != 2 || arg.list[1].kind != vMap {
			t.errorf(arg.p, field, "Fn::Sub: want a string or [string, {variables}]")
			return nil, false
		}
		src = arg.list[0]
		m := arg.list[1]
		for i, k := range m.keys {
			x, ok := t.evalString(m.vals[i], field, depth)
			if !ok {
				return nil, false
			}
			vars[k] = x
		}
	}
	if src.kind != vScalar {
		t.errorf(src.p, field, "Fn::Sub: want a string")
		return nil, false
	}
	ok := true
	secret := false
	out := subVarRE.ReplaceAllStringFunc(src.s, func(m string) string {
		name := strings.TrimSpace(m[2 : len(m)-1])
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		var x *tval
		var vok bool
		if v, found := vars[name]; found {
			x, vok = v, true
		} else if id, attr, dotted := strings.Cut(name, "."); dotted && !strings.HasPrefix(name, "AWS::") {
			x, vok = t.getAtt(id, attr, src.p, field)
		} else {
			x, vok = t.ref(name, src.p, field)
		}
		if !vok {
			ok = false
			return ""
		}
		if x == nil || x.kind != vScalar {
			t.errorf(src.p, field, "Fn::Sub: ${%s} is not a string", name)
			ok = false
			return ""
		}
		secret = secret || x.secret
		return x.s
	})
	if !ok {
		return nil, false
	}
	return strVal(out, src.p, secret), true
}

func (t *tmpl) ref(name string, p pos, field string) (*tval, bool) {
	if name == "AWS::NoValue" {
		return nil, true
	}
	if v, ok := t.pseudo[name]; ok {
		return v, true
	}
	if v, ok := t.paramVals[name]; ok {
		return v, true
	}
	r := t.resources[name]
	if r == nil {
		t.errorf(p, field, "Ref: no parameter or resource named %q", name)
		return nil, false
	}
	if !r.created {
		t.errorf(p, field, "Ref: resource %s is not created (its condition is false)", name)
		return nil, false
	}
	return t.refValue(r), true
}

func (t *tmpl) getAtt(id, attr string, p pos, field string) (*tval, bool) {
	r := t.resources[id]
	if r == nil {
		t.errorf(p, field, "Fn::GetAtt: no resource named %q", id)
		return nil, false
	}
	if !r.created {
		t.errorf(p, field, "Fn::GetAtt: resource %s is not created (its condition is false)", id)
		return nil, false
	}
	v, ok := t.attValue(r, attr)
	if !ok {
		t.errorf(p, field, "Fn::GetAtt: %s (%s) has no attribute %s", id, r.typ, attr)
		return nil, false
	}
	return v, true
}
