package config

import (
	"bytes"
	"encoding"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// fileConfig is one native configuration file.
type fileConfig struct {
	BuiltinRules *bool       `yaml:"builtin_rules"`
	Rules        []string    `yaml:"rules"`
	Receivers    []*Receiver `yaml:"receivers"`
	Routes       []*Route    `yaml:"routes"`
	// BuiltinMetrics adds the CIS metric filters and alarms (rules/metrics);
	// BuiltinMetricsActions are their alarm actions (receiver names or
	// topic ARNs).
	BuiltinMetrics        *bool             `yaml:"builtin_metrics"`
	BuiltinMetricsActions []string          `yaml:"builtin_metrics_actions"`
	MetricFilters         []*MetricFilter   `yaml:"metric_filters"`
	Alarms                []*Alarm          `yaml:"alarms"`
	CompositeAlarms       []*CompositeAlarm `yaml:"composite_alarms"`
	Schedules             []*Schedule       `yaml:"schedules"`
	// Postgres is a postgres:// URL: several serve nodes share that
	// database (serve's --postgres wins over it).
	Postgres Secret `yaml:"postgres"`
}

// origin locates an item (a receiver, a route) for validation errors.
type origin struct {
	file  string
	field string
	// positions of native keys by path; nil for template items, which
	// report every error at at under field.
	positions map[string]pos
	at        pos
	// rename turns a native key path ("metric_transformations[0].unit")
	// into the template's ("MetricTransformations[0].Unit"), for template
	// items validated by the native checks; nil for native items.
	rename func(sub string) string
}

func (o *origin) errorf(l *errList, sub string, sentinel error, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if o.rename != nil && sub != "" {
		sub = o.rename(sub)
	}
	if o.positions == nil {
		if sub != "" {
			msg = sub + ": " + msg
		}
		l.add(o.file, o.at, o.field, sentinel, "%s", msg)
		return
	}
	field := o.field
	if sub != "" {
		field += "." + sub
	}
	p := o.at
	for f := field; f != ""; {
		if q, ok := o.positions[f]; ok {
			p = q
			break
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	l.add(o.file, p, field, sentinel, "%s", msg)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlErr turns a YAML syntax error into a located error.
func yamlErr(l *errList, file string, err error) {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		l.add(file, pos{line: line}, "", err, "%s", m[2])
		return
	}
	l.add(file, pos{}, "", err, "%s", strings.TrimPrefix(msg, "yaml: "))
}

// parseYAML reads the first document of a YAML file; nil for an empty file.
func parseYAML(l *errList, file string, data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if err == io.EOF {
			return nil
		}
		yamlErr(l, file, err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		l.add(file, pos{line: extra.Line, col: extra.Column}, "", nil, "more than one YAML document")
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil
	}
	return root.Content[0]
}

// decoder decodes YAML nodes into Go values strictly, recording where each
// field was written and replacing ${NAME} references from env.
type decoder struct {
	file      string
	env       func(string) (string, bool)
	errs      *errList
	positions map[string]pos
}

func nodePos(n *yaml.Node) pos { return pos{line: n.Line, col: n.Column} }

func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func (d *decoder) errorf(n *yaml.Node, field string, sentinel error, format string, args ...any) {
	d.errs.add(d.file, nodePos(n), field, sentinel, format, args...)
}

var envRE = regexp.MustCompile(`\$\$\{|\$\{([^}]*)\}`)
var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expand replaces ${NAME} from env ("$${" stands for a literal "${"). It
// reports whether anything was replaced, so that messages never echo a
// value that came from the environment.
func (d *decoder) expand(n *yaml.Node, field string) (string, bool, bool) {
	s := n.Value
	if n.ShortTag() != "!!str" || !strings.Contains(s, "${") {
		return s, false, true
	}
	ok, replaced := true, false
	out := envRE.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$${" {
			return "${"
		}
		name := m[2 : len(m)-1]
		if !envNameRE.MatchString(name) {
			d.errorf(n, field, nil, "bad environment reference %q (want ${NAME}, or $${ for a literal ${)", m)
			ok = false
			return ""
		}
		v, found := d.env(name)
		if !found {
			d.errorf(n, field, ErrMissingEnv, "environment variable %s is not set", name)
			ok = false
			return ""
		}
		replaced = true
		return v
	})
	return out, replaced, ok
}

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

func yamlName(f reflect.StructField) string {
	tag := f.Tag.Get("yaml")
	name, _, _ := strings.Cut(tag, ",")
	return name
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, field string) {
	n = resolveAlias(n)
	d.positions[field] = nodePos(n)
	if v.Kind() == reflect.Pointer {
		if isNull(n) {
			if v.Type().Elem().Kind() == reflect.Struct {
				// "stdout:" with no settings: the type with its defaults.
				v.Set(reflect.New(v.Type().Elem()))
			}
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), field)
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(textUnmarshalerType) {
		if n.Kind != yaml.ScalarNode || isNull(n) {
			d.errorf(n, field, nil, "want a value")
			return
		}
		s, replaced, ok := d.expand(n, field)
		if !ok {
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			if replaced {
				d.errorf(n, field, nil, "the value from the environment is not valid here")
			} else {
				d.errorf(n, field, nil, "%v", err)
			}
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, field)
	case reflect.Slice:
		if isNull(n) {
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, field, nil, "want a list")
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, e := range n.Content {
			d.decode(e, s.Index(i), fmt.Sprintf("%s[%d]", field, i))
		}
		v.Set(s)
	case reflect.Map:
		if isNull(n) {
			return
		}
		if n.Kind != yaml.MappingNode {
			d.errorf(n, field, nil, "want a mapping")
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolveAlias(n.Content[i])
			if k.Kind != yaml.ScalarNode {
				d.errorf(k, field, nil, "want a string key")
				continue
			}
			kf := field + "." + k.Value
			if m.MapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key())).IsValid() {
				d.errorf(k, kf, nil, "duplicate key")
				continue
			}
			e := reflect.New(v.Type().Elem()).Elem()
			d.decode(n.Content[i+1], e, kf)
			m.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), e)
		}
		v.Set(m)
	case reflect.String:
		if n.Kind != yaml.ScalarNode || isNull(n) {
			d.errorf(n, field, nil, "want a string")
			return
		}
		if s, _, ok := d.expand(n, field); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, field, nil, "want true or false")
			return
		}
		s, replaced, ok := d.expand(n, field)
		if !ok {
			return
		}
		if n.ShortTag() != "!!bool" && !replaced {
			d.errorf(n, field, nil, "want true or false")
			return
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			d.errorf(n, field, nil, "want true or false")
			return
		}
		v.SetBool(b)
	case reflect.Int:
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, field, nil, "want a whole number")
			return
		}
		s, replaced, ok := d.expand(n, field)
		if !ok {
			return
		}
		i, err := strconv.Atoi(s)
		if (n.ShortTag() != "!!int" && !replaced) || err != nil {
			d.errorf(n, field, nil, "want a whole number")
			return
		}
		v.SetInt(int64(i))
	case reflect.Float64:
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, field, nil, "want a number")
			return
		}
		s, replaced, ok := d.expand(n, field)
		if !ok {
			return
		}
		tag := n.ShortTag()
		f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
		if (tag != "!!int" && tag != "!!float" && !replaced) || err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.errorf(n, field, nil, "want a number")
			return
		}
		v.SetFloat(f)
	default:
		d.errorf(n, field, nil, "cannot decode into %s", v.Type())
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, field string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, field, nil, "want a mapping")
		return
	}
	t := v.Type()
	byName := map[string]int{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		if name := yamlName(f); name != "" && name != "-" {
			byName[name] = i
			names = append(names, name)
		}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolveAlias(n.Content[i])
		kf := k.Value
		if field != "" {
			kf = field + "." + k.Value
		}
		idx, ok := byName[k.Value]
		if !ok || k.Kind != yaml.ScalarNode {
			d.errorf(k, kf, ErrUnknownKey, "unknown key (want one of %s)", strings.Join(names, ", "))
			continue
		}
		if seen[k.Value] {
			d.errorf(k, kf, nil, "duplicate key")
			continue
		}
		seen[k.Value] = true
		d.positions[kf] = nodePos(k)
		d.decode(n.Content[i+1], v.Field(idx), kf)
		// Keep the key's position, where a reader looks for the field.
		d.positions[kf] = nodePos(k)
	}
}

// decodeNative decodes one native configuration file.
func decodeNative(l *errList, file string, data []byte, env func(string) (string, bool)) (*fileConfig, map[string]pos) {
	fc := &fileConfig{}
	positions := map[string]pos{}
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	root := parseYAML(l, file, data)
	if root == nil {
		return fc, positions
	}
	d := &decoder{file: file, env: env, errs: l, positions: positions}
	if root.Kind != yaml.MappingNode {
		d.errorf(root, "", nil, "want a mapping with builtin_rules, rules, receivers, routes, metric_filters, alarms, composite_alarms and schedules")
		return fc, positions
	}
	d.decode(root, reflect.ValueOf(fc).Elem(), "")
	return fc, positions
}
