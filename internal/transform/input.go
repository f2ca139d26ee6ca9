package transform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Input is what a target sends: at most one of Constant (EventBridge
// "Input"), Path ("InputPath") and Transformer; none sends the event
// itself.
type Input struct {
	Constant    *string
	Path        string
	Transformer *Transformer

	path path
}

// NewInput validates a target's input as PutTargets does: at most one of a
// constant (which must be JSON text of at most 8192 characters), an input
// path (a JSON path of at most 256 characters) and an input transformer
// (hasTransformer; pathsMap and template are then compiled by New).
func NewInput(constant *string, path string, pathsMap map[string]string, template string, hasTransformer bool) (*Input, error) {
	n := 0
	for _, set := range []bool{constant != nil, path != "", hasTransformer} {
		if set {
			n++
		}
	}
	if n > 1 {
		return nil, invalid("only one of input, input_path and input_transformer may be given",
			"Only one of Input, InputPath, or InputTransformer must be provided for target {target}.")
	}
	in := &Input{Constant: constant, Path: path}
	switch {
	case constant != nil:
		if len(*constant) > maxTemplateLen {
			return nil, invalid(fmt.Sprintf("input has %d characters, more than %d", len(*constant), maxTemplateLen),
				"1 validation error detected: Value at 'targets.1.member.input' failed to satisfy constraint: Member must have length less than or equal to 8192")
		}
		if !json.Valid([]byte(*constant)) {
			return nil, invalid("input is not valid json text",
				"Input for target {target} is not valid JSON text.")
		}
	case path != "":
		c, err := compilePath(path)
		if err != nil {
			return nil, invalid(fmt.Sprintf("input_path %q: %v", path, err),
				"InputPath for target {target} is not a valid JSON path.")
		}
		in.path = c
	case hasTransformer:
		t, err := New(pathsMap, template)
		if err != nil {
			return nil, err
		}
		in.Transformer = t
	}
	return in, nil
}

// Render returns the body the target sends for one event (its EventBridge
// envelope JSON): the constant, the value the path selects (JSON text), the
// transformer's rendering, or the event itself.
func (in *Input) Render(event []byte, v Vars) ([]byte, error) {
	switch {
	case in.Constant != nil:
		return []byte(*in.Constant), nil
	case in.Path != "":
		root, err := parse(event)
		if err != nil {
			return nil, fmt.Errorf("render: %w: %w", ErrEvent, err)
		}
		c := in.path
		if c.steps == nil { // an Input built without NewInput
			if c, err = compilePath(in.Path); err != nil {
				return nil, fmt.Errorf("render: input path %q: %w", in.Path, err)
			}
		}
		n := c.eval(root)
		if n == nil {
			return nil, fmt.Errorf("render: %w: %s", ErrNoValue, in.Path)
		}
		return n.appendJSON(nil), nil
	case in.Transformer != nil:
		return in.Transformer.Render(event, v)
	}
	return bytes.TrimSpace(event), nil
}

// appendQuoted appends s as a JSON string, escaping only what JSON requires
// (no HTML escaping).
func appendQuoted(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

func validJSON(b []byte) bool { return json.Valid(b) }
