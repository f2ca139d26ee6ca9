package config

import "testing"

func TestJavaRegexp(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern string
		match   []string
		noMatch []string
		err     bool
	}{
		{pattern: `^[\x20-\x45]?[\w-\+]+(\.[\w]+)*@[\w-]+(\.[\w]+)*(\.[a-z]{2,})$`, match: []string{"you@example.com", "a+b.c@mail.example.org"}, noMatch: []string{"you@example", "not an address"}},
		{pattern: `[a-z]+`, match: []string{"abc"}, noMatch: []string{"abc1", ""}},
		{pattern: `a++b`, match: []string{"aaab"}, noMatch: []string{"b"}},
		{pattern: `a{2}+b`, match: []string{"aab"}, noMatch: []string{"ab"}},
		{pattern: `a*+`, match: []string{"", "aaa"}},
		{pattern: `a+?b`, match: []string{"ab"}},
		{pattern: `(?>ab|a)c`, match: []string{"abc", "ac"}},
		{pattern: `\p{Lower}\p{Upper}\p{Digit}[\p{Alpha}_]`, match: []string{"aB1_", "aB1z"}, noMatch: []string{"AB1_"}},
		{pattern: `\P{Digit}`, match: []string{"x"}, noMatch: []string{"1"}},
		{pattern: `a\hb\u0041\0101`, match: []string{"a bAA", "a\tbAA"}},
		{pattern: `\e\cA`, match: []string{"\x1b\x01"}},
		{pattern: `ab\Z`, match: []string{"ab", "ab\n"}},
		{pattern: `\d{3}-\d{4}`, match: []string{"555-1234"}},
		{pattern: `(?=a)a`, err: true},
		{pattern: `(?<!a)b`, err: true},
		{pattern: `(a)\1`, err: true},
		{pattern: `[a-z&&[^b]]`, err: true},
		{pattern: `\`, err: true},
		{pattern: `(`, err: true},
	}
	for _, c := range cases {
		re, err := compileJavaRegexp(c.pattern)
		if c.err {
			if err == nil {
				t.Errorf("%s: want an error", c.pattern)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.pattern, err)
			continue
		}
		for _, s := range c.match {
			if !re.MatchString(s) {
				t.Errorf("%s should match %q", c.pattern, s)
			}
		}
		for _, s := range c.noMatch {
			if re.MatchString(s) {
				t.Errorf("%s should not match %q", c.pattern, s)
			}
		}
	}
}
