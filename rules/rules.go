// Package rules holds Trailwatch's built-in rule packs: YAML files, each a
// list of event-pattern rules with their inline test events, embedded in the
// binary. Package internal/rule loads them (rule.Builtin).
package rules

import "embed"

// FS holds the pack files (*.yaml) at its root.
//
//go:embed *.yaml
var FS embed.FS
