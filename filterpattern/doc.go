// Package filterpattern implements Amazon CloudWatch Logs filter patterns,
// the language of metric filters, subscription filters, FilterLogEvents and
// Live Tail, with the semantics AWS documents and has been observed to
// apply. PATTERNS.md is the normative description.
//
// A pattern is one of three kinds, chosen by its first non-blank
// character: '{' starts a JSON pattern ({ $.eventName = ConsoleLogin }),
// '[' a space-delimited pattern ([ip, user, ..., status = 4*, bytes > 1000]),
// anything else a term pattern (ERROR -DEBUG, ?WARN ?ERROR, "a phrase",
// %regex%). The empty pattern matches every message.
//
// Parse validates a pattern and reports an invalid one as *Error with the
// byte offset and what is wrong. Match tests one log message (for
// CloudTrail, the raw record JSON as it appears in a CloudTrail log group)
// and returns the values a metric filter can use; MetricValue evaluates a
// metric filter's metricValue against them.
//
// JSON patterns do not unmarshal the message: a single validating pass over
// its bytes records only the values at the selectors the pattern names.
//
// The package uses only the standard library and holds no mutable global
// state; a *Pattern is safe for concurrent use.
package filterpattern
