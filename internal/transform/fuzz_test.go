package transform

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func fuzzSeeds(f *testing.F, add func(c itCase, event []byte)) {
	file := loadCases(f)
	for _, c := range file.Cases {
		ev := []byte(c.Event)
		if c.EventRef != "" {
			ev = file.Events[c.EventRef]
		}
		add(c, ev)
	}
}

var fuzzMap = map[string]string{
	"a": "$.detail.a", "b": "$.detail.b[0]", "c": "$.detail.*", "d": "$", "e": "$.detail.c.d", "f": "$.x",
}

func FuzzNew(f *testing.F) {
	fuzzSeeds(f, func(c itCase, _ []byte) {
		for k, p := range c.PathsMap {
			tmpl := ""
			if c.Template != nil {
				tmpl = *c.Template
			}
			f.Add(k, p, tmpl)
		}
	})
	f.Add("aws.events.event", "$", `{"a": <aws.events.event>}`)
	f.Add("k", "$.a[*].b.*", `{<k>: 1}`)
	f.Fuzz(func(t *testing.T, key, p, template string) {
		tr, err := New(map[string]string{key: p}, template)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not a ValidationError", err)
			}
			return
		}
		if !validKey(key) {
			t.Fatalf("accepted key %q", key)
		}
		out, err := tr.Render([]byte(ec2), Vars{RuleName: "r"})
		if err == nil && tr.JSON() && !json.Valid(out) {
			t.Fatalf("invalid JSON delivered: %q", out)
		}
		if err != nil && !errors.Is(err, ErrInvalidJSON) {
			t.Fatalf("Render: %v", err)
		}
		if !strings.Contains(template, "<") && err == nil && string(out) != template {
			t.Fatalf("template without placeholders changed: %q -> %q", template, out)
		}
	})
}

func FuzzRender(f *testing.F) {
	fuzzSeeds(f, func(c itCase, ev []byte) {
		if c.Template != nil {
			f.Add(*c.Template, ev)
		}
	})
	f.Add(`{"x": "<a> <b>", "y": [<c>, <d>, <e>, <f>]}`, []byte(`{"detail":{"a":"q\"uote","b":[{"k":"v"}],"c":{"d":null}}}`))
	f.Add(`"<a>|<b>|<c>|<aws.events.event>"`, []byte(`{"detail":{"a":"\u00e9\n","b":["x",1,true],"c":[]},"detail-type":"t"}`))
	f.Fuzz(func(t *testing.T, template string, event []byte) {
		tr, err := New(fuzzMap, template)
		if err != nil {
			return
		}
		out, err := tr.Render(event, Vars{RuleARN: "arn", RuleName: "n"})
		if err != nil {
			if !errors.Is(err, ErrInvalidJSON) && !errors.Is(err, ErrEvent) {
				t.Fatalf("Render: unexpected error %v", err)
			}
			if errors.Is(err, ErrEvent) && json.Valid(event) && bytes.TrimSpace(event)[0] == '{' {
				t.Fatalf("valid object event refused: %v", err)
			}
			return
		}
		if tr.JSON() && !json.Valid(out) {
			t.Fatalf("a JSON template rendered invalid JSON without error: %q", out)
		}
	})
}

// FuzzLookup checks Lookup against encoding/json on definite paths.
func FuzzLookup(f *testing.F) {
	f.Add([]byte(ec2), "detail", "instance-id", 0)
	f.Add([]byte(`{"a":[1,{"b":2}],"a":[3]}`), "a", "b", 1)
	f.Add([]byte(`{"x\"y":{"z":[null]}}`), "x\"y", "z", 0)
	f.Fuzz(func(t *testing.T, doc []byte, k1, k2 string, idx int) {
		var want any
		if json.Unmarshal(doc, &want) != nil {
			if _, _, err := Lookup(doc, "$"); err == nil {
				t.Fatal("invalid document accepted")
			}
			return
		}
		if !validKey(k1) || !validKey(k2) || idx < 0 {
			return
		}
		p := "$." + k1 + "[" + strconv.Itoa(idx) + "]." + k2
		got, ok, err := Lookup(doc, p)
		if err != nil {
			t.Fatalf("Lookup(%s): %v", p, err)
		}
		// Walk the same path over encoding/json's decoding.
		v, found := want, true
		if m, isMap := v.(map[string]any); isMap {
			v, found = m[k1]
		} else {
			found = false
		}
		if a, isArr := v.([]any); found && isArr && idx < len(a) {
			v = a[idx]
		} else {
			found = false
		}
		if m, isMap := v.(map[string]any); found && isMap {
			v, found = m[k2]
		} else {
			found = false
		}
		if ok != found {
			t.Fatalf("Lookup(%s) ok = %v, encoding/json found = %v", p, ok, found)
		}
		if !ok {
			return
		}
		var g any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("Lookup(%s) = %q: %v", p, got, err)
		}
		if !reflect.DeepEqual(g, v) {
			t.Fatalf("Lookup(%s) = %s, encoding/json gives %v", p, got, v)
		}
	})
}
