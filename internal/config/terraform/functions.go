package terraform

import (
	"strings"

	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// functions are the Terraform functions evaluated (can, try, contains,
// startswith... for validation conditions among them); file() and
// templatefile() read files Trailwatch does not load: errors naming them.
func functions(dir string) map[string]function.Function {
	_ = dir
	return map[string]function.Function{
		"jsonencode": stdlib.JSONEncodeFunc, "jsondecode": stdlib.JSONDecodeFunc,
		"format": stdlib.FormatFunc, "formatlist": stdlib.FormatListFunc,
		"join": stdlib.JoinFunc, "split": stdlib.SplitFunc, "lower": stdlib.LowerFunc, "upper": stdlib.UpperFunc,
		"title": stdlib.TitleFunc, "replace": stdlib.ReplaceFunc, "regex": stdlib.RegexFunc, "regexall": stdlib.RegexAllFunc,
		"trimspace": stdlib.TrimSpaceFunc, "trim": stdlib.TrimFunc, "trimprefix": stdlib.TrimPrefixFunc, "trimsuffix": stdlib.TrimSuffixFunc,
		"substr": stdlib.SubstrFunc, "strlen": stdlib.StrlenFunc, "chomp": stdlib.ChompFunc, "indent": stdlib.IndentFunc,
		"concat": stdlib.ConcatFunc, "merge": stdlib.MergeFunc, "length": lengthFunc, "lookup": stdlib.LookupFunc,
		"element": stdlib.ElementFunc, "contains": stdlib.ContainsFunc, "keys": stdlib.KeysFunc, "values": stdlib.ValuesFunc,
		"flatten": stdlib.FlattenFunc, "distinct": stdlib.DistinctFunc, "compact": stdlib.CompactFunc, "coalesce": stdlib.CoalesceFunc,
		"coalescelist": stdlib.CoalesceListFunc, "zipmap": stdlib.ZipmapFunc, "slice": stdlib.SliceFunc,
		"sort": stdlib.SortFunc, "reverse": stdlib.ReverseListFunc, "min": stdlib.MinFunc, "max": stdlib.MaxFunc,
		"abs": stdlib.AbsoluteFunc, "ceil": stdlib.CeilFunc, "floor": stdlib.FloorFunc, "parseint": stdlib.ParseIntFunc,
		"tostring": stdlib.MakeToFunc(cty.String), "tonumber": stdlib.MakeToFunc(cty.Number), "tobool": stdlib.MakeToFunc(cty.Bool),
		"tolist": stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)), "toset": stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tomap":    stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"setunion": stdlib.SetUnionFunc, "setintersection": stdlib.SetIntersectionFunc, "setproduct": stdlib.SetProductFunc,
		"can": tryfunc.CanFunc, "try": tryfunc.TryFunc, "range": stdlib.RangeFunc, "index": stdlib.IndexFunc,
		"startswith": affix("prefix", strings.HasPrefix), "endswith": affix("suffix", strings.HasSuffix),
		"alltrue": allAny(true), "anytrue": allAny(false),
		"file":         unsupported("file", "write the text inline (a heredoc) or pass it as a variable"),
		"templatefile": unsupported("templatefile", "write the template inline with string interpolation"),
		"filebase64":   unsupported("filebase64", "files are not read"),
		"timestamp":    unsupported("timestamp", "the configuration must not depend on the clock"),
		"uuid":         unsupported("uuid", "the configuration must be deterministic"),
	}
}

// affix is startswith or endswith: whether a string has the given prefix
// (suffix).
func affix(name string, has func(s, x string) bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "string", Type: cty.String}, {Name: name, Type: cty.String}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(has(args[0].AsString(), args[1].AsString())), nil
		},
	})
}

// allAny is alltrue (all: true) or anytrue over a list of bools.
func allAny(all bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "list", Type: cty.List(cty.Bool)}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			for it := args[0].ElementIterator(); it.Next(); {
				_, v := it.Element()
				if !v.IsKnown() {
					return cty.UnknownVal(cty.Bool), nil
				}
				if v.IsNull() {
					return cty.False, nil
				}
				if v.True() != all {
					return cty.BoolVal(!all), nil
				}
			}
			return cty.BoolVal(all), nil
		},
	})
}

// lengthFunc is Terraform's length: of a collection, or of a string (in
// characters), which cty's length refuses.
var lengthFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType, AllowDynamicType: true, AllowUnknown: true, AllowMarked: true}},
	Type:   function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		if args[0].Type() == cty.String {
			return stdlib.Strlen(args[0])
		}
		return stdlib.Length(args[0])
	},
})
