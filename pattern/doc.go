// Package pattern implements Amazon EventBridge event patterns with the
// semantics of aws/event-ruler 2.0.1, AWS's own matching library: exact
// values, prefix, suffix, equals-ignore-case, wildcard, anything-but and
// its variants, numeric, cidr, exists, null, empty string and $or, with
// EventBridge's rules for arrays (including array consistency), missing
// fields, dotted keys, duplicate keys and numbers. PATTERNS.md is the
// normative description.
//
// Parse validates one pattern and reports an invalid one as *Error with
// AWS's message. A Builder compiles any number of patterns into one
// Matcher, whose cost per event grows little with the number of patterns:
// the event's JSON is scanned once, subtrees no pattern names are skipped
// without decoding, and each pattern is only looked at when its most
// selective condition matched.
//
// The package uses only the standard library.
package pattern
