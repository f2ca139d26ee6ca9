package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

const hspace = `\t \x{A0}\x{1680}\x{180E}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}`

// javaToRE2 translates a Java regular expression, as CloudFormation's
// AllowedPattern uses, into Go's RE2 syntax: possessive quantifiers and
// atomic groups become greedy ones and plain groups, \h, \uXXXX, \0oct, \e,
// \cX and \Z are rewritten. What RE2 cannot do (look-around, back
// references, class intersection) is an error.
func javaToRE2(p string) (string, error) {
	var b strings.Builder
	inClass := false
	classStart := false
	lastQuant := false // the last thing written was a quantifier
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			if i+1 >= len(p) {
				return "", fmt.Errorf("trailing backslash")
			}
			n := p[i+1]
			switch {
			case n == 'h':
				if inClass {
					b.WriteString(hspace)
				} else {
					b.WriteString("[" + hspace + "]")
				}
				i++
			case n == 'H':
				if inClass {
					return "", fmt.Errorf(`\H inside a character class is not supported`)
				}
				b.WriteString("[^" + hspace + "]")
				i++
			case n == 'u' && i+5 < len(p)+0 && i+6 <= len(p) && isHex(p[i+2:i+6]):
				b.WriteString(`\x{` + p[i+2:i+6] + `}`)
				i += 5
			case n == '0':
				j := i + 2
				for j < len(p) && j < i+5 && p[j] >= '0' && p[j] <= '7' {
					j++
				}
				v, err := strconv.ParseUint(p[i+2:j], 8, 16)
				if err != nil || v > 0377 {
					return "", fmt.Errorf(`bad octal escape %s`, p[i:j])
				}
				fmt.Fprintf(&b, `\x{%X}`, v)
				i = j - 1
			case (n == 'p' || n == 'P') && i+2 < len(p) && p[i+2] == '{' && posixName(p[i+3:]) != "":
				name := posixName(p[i+3:])
				neg := ""
				if n == 'P' {
					neg = "^"
				}
				if inClass {
					b.WriteString("[:" + neg + javaPOSIX[name] + ":]")
				} else {
					b.WriteString("[" + neg + "[:" + javaPOSIX[name] + ":]]")
				}
				i += 3 + len(name)
			case n == 'e':
				b.WriteString(`\x1B`)
				i++
			case n == 'c' && i+2 < len(p):
				fmt.Fprintf(&b, `\x{%X}`, p[i+2]^0x40)
				i += 2
			case n == 'Z' && !inClass:
				b.WriteString(`(?:\n?\z)`)
				i++
			case n >= '1' && n <= '9' && !inClass:
				return "", fmt.Errorf("back references (\\%c) are not supported", n)
			case n == 'k' && i+2 < len(p) && p[i+2] == '<':
				return "", fmt.Errorf("named back references are not supported")
			case n == 'G' || n == 'R' || n == 'X':
				return "", fmt.Errorf(`\%c is not supported`, n)
			default:
				b.WriteByte(c)
				b.WriteByte(n)
				i++
			}
			classStart = false
			lastQuant = false
			continue
		case inClass:
			if c == '[' && !classStart {
				return "", fmt.Errorf("nested character classes and class intersection are not supported")
			}
			if c == '&' && i+1 < len(p) && p[i+1] == '&' {
				return "", fmt.Errorf("character class intersection (&&) is not supported")
			}
			if c == ']' && !classStart {
				inClass = false
			}
			if c == '^' && classStart {
				b.WriteByte(c)
				continue
			}
			classStart = false
			b.WriteByte(c)
			continue
		case c == '[':
			inClass, classStart, lastQuant = true, true, false
			b.WriteByte(c)
			continue
		case c == '(' && strings.HasPrefix(p[i:], "(?>"):
			b.WriteString("(?:")
			i += 2
			continue
		case c == '(' && (strings.HasPrefix(p[i:], "(?=") || strings.HasPrefix(p[i:], "(?!") ||
			strings.HasPrefix(p[i:], "(?<=") || strings.HasPrefix(p[i:], "(?<!")):
			return "", fmt.Errorf("look-around groups are not supported")
		case c == '+' && lastQuant:
			// A possessive quantifier: match greedily instead.
			lastQuant = false
			continue
		case c == '*' || c == '+':
			lastQuant = true
		case c == '?':
			lastQuant = !lastQuant // after a quantifier, ? makes it lazy
		case c == '{':
			if m := quantRE.FindString(p[i:]); m != "" {
				b.WriteString(m)
				i += len(m) - 1
				lastQuant = true
				continue
			}
			lastQuant = false
		default:
			lastQuant = false
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// javaPOSIX maps Java's POSIX classes (\p{Lower}) to RE2's ([:lower:]).
var javaPOSIX = map[string]string{
	"Lower": "lower", "Upper": "upper", "ASCII": "ascii", "Alpha": "alpha", "Digit": "digit", "Alnum": "alnum",
	"Punct": "punct", "Graph": "graph", "Print": "print", "Blank": "blank", "Cntrl": "cntrl", "XDigit": "xdigit", "Space": "space",
}

// posixName returns the Java POSIX class name that rest starts with
// ("Lower}..."), or "".
func posixName(rest string) string {
	name, _, ok := strings.Cut(rest, "}")
	if !ok {
		return ""
	}
	if _, known := javaPOSIX[name]; known {
		return name
	}
	return ""
}

var quantRE = regexp.MustCompile(`^\{\d+(,\d*)?\}`)

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// compileJavaRegexp compiles an AllowedPattern, which must match the whole
// value.
func compileJavaRegexp(p string) (*regexp.Regexp, error) {
	s, err := javaToRE2(p)
	if err != nil {
		return nil, fmt.Errorf("AllowedPattern: %w", err)
	}
	re, err := regexp.Compile(`^(?:` + s + `)$`)
	if err != nil {
		return nil, fmt.Errorf("AllowedPattern: %w", err)
	}
	return re, nil
}
