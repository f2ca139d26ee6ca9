package terraform

import (
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// functions are the Terraform functions evaluated; file() and
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
		"concat": stdlib.ConcatFunc, "merge": stdlib.MergeFunc, "length": stdlib.LengthFunc, "lookup": stdlib.LookupFunc,
		"element": stdlib.ElementFunc, "contains": stdlib.ContainsFunc, "keys": stdlib.KeysFunc, "values": stdlib.ValuesFunc,
		"flatten": stdlib.FlattenFunc, "distinct": stdlib.DistinctFunc, "compact": stdlib.CompactFunc, "coalesce": stdlib.CoalesceFunc,
		"coalescelist": stdlib.CoalesceListFunc, "zipmap": stdlib.ZipmapFunc, "slice": stdlib.SliceFunc,
		"sort": stdlib.SortFunc, "reverse": stdlib.ReverseListFunc, "min": stdlib.MinFunc, "max": stdlib.MaxFunc,
		"abs": stdlib.AbsoluteFunc, "ceil": stdlib.CeilFunc, "floor": stdlib.FloorFunc, "parseint": stdlib.ParseIntFunc,
		"tostring": stdlib.MakeToFunc(cty.String), "tonumber": stdlib.MakeToFunc(cty.Number), "tobool": stdlib.MakeToFunc(cty.Bool),
		"tolist": stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)), "toset": stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tomap":    stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"setunion": stdlib.SetUnionFunc, "setintersection": stdlib.SetIntersectionFunc, "setproduct": stdlib.SetProductFunc,
		"file":         unsupported("file", "write the text inline (a heredoc) or pass it as a variable"),
		"templatefile": unsupported("templatefile", "write the template inline with string interpolation"),
		"filebase64":   unsupported("filebase64", "files are not read"),
		"timestamp":    unsupported("timestamp", "the configuration must not depend on the clock"),
		"uuid":         unsupported("uuid", "the configuration must be deterministic"),
	}
}
