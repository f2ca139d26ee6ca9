package event

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Facts is the readable story of an event, for alerts.
type Facts struct {
	EventName, EventSource string
	// Principal is who acted, readably: "root" for the root user (with the
	// account alias after it when the record names one: "root (my-alias)"),
	// the IAM user name, "role/session" for an assumed role, the federated
	// user's name, the service for AWSService, else the ARN, principalId
	// or userName.
	Principal     string
	PrincipalType string // userIdentity.type
	PrincipalARN  string
	AccessKeyID   string
	SourceIP      string
	UserAgent     string
	// MFA is "Yes" or "No" when known: additionalEventData.MFAUsed for
	// sign-ins, else the session's mfaAuthenticated; "" when unknown.
	MFA          string
	ErrorCode    string
	ErrorMessage string
	// Outcome is the sign-in result ("Success", "Failure") from
	// responseElements.ConsoleLogin, SwitchRole and the like, when present.
	Outcome string
}

// identity is the part of userIdentity Facts reads.
type identity struct {
	Type           string `json:"type"`
	PrincipalID    string `json:"principalId"`
	ARN            string `json:"arn"`
	AccountID      string `json:"accountId"`
	AccessKeyID    string `json:"accessKeyId"`
	UserName       string `json:"userName"`
	InvokedBy      string `json:"invokedBy"`
	SessionContext struct {
		Attributes struct {
			MFAAuthenticated json.RawMessage `json:"mfaAuthenticated"`
		} `json:"attributes"`
		SessionIssuer struct {
			UserName string `json:"userName"`
			ARN      string `json:"arn"`
		} `json:"sessionIssuer"`
	} `json:"sessionContext"`
}

// factsRecord is the part of a CloudTrail record Facts reads.
type factsRecord struct {
	EventName, EventSource, SourceIPAddress, UserAgent, ErrorCode, ErrorMessage string
	UserIdentity                                                                identity
	MFAUsed                                                                     string
	Outcome                                                                     string
	// Datadog-export-enriched records move sourceIPAddress and userAgent.
	NetworkClientIP, HTTPUserAgent string
}

// outcomeKeys are the responseElements members that say how a sign-in
// step ended, in order of preference.
var outcomeKeys = [...]string{"ConsoleLogin", "SwitchRole", "CheckMfa", "PasswordUpdated", "UserAuthentication", "CredentialVerification", "CredentialChallenge", "ExternalIdPDirectoryLogin"}

// readFacts reads the members Facts needs from a record, without decoding
// the rest (requestParameters and responseElements can be large). A member
// of an unexpected type is skipped.
func readFacts(rec []byte) factsRecord {
	var r factsRecord
	outcome := len(outcomeKeys)
	members(rec, func(k, v []byte) {
		switch string(k) {
		case "eventName":
			r.EventName = stringValue(v)
		case "eventSource":
			r.EventSource = stringValue(v)
		case "sourceIPAddress":
			r.SourceIPAddress = stringValue(v)
		case "userAgent":
			r.UserAgent = stringValue(v)
		case "errorCode":
			r.ErrorCode = stringValue(v)
		case "errorMessage":
			r.ErrorMessage = stringValue(v)
		case "userIdentity":
			var u identity
			if json.Unmarshal(v, &u) == nil {
				r.UserIdentity = u
			}
		case "additionalEventData":
			members(v, func(k, v []byte) {
				if string(k) == "MFAUsed" {
					r.MFAUsed = rawString(v)
				}
			})
		case "responseElements":
			members(v, func(k, v []byte) {
				for i, ok := range outcomeKeys[:outcome] {
					if string(k) == ok {
						if s := rawString(v); s != "" {
							r.Outcome, outcome = s, i
						}
						return
					}
				}
			})
		case "network":
			members(v, func(k, v []byte) {
				if string(k) == "client" {
					members(v, func(k, v []byte) {
						if string(k) == "ip" {
							r.NetworkClientIP = stringValue(v)
						}
					})
				}
			})
		case "http":
			members(v, func(k, v []byte) {
				if string(k) == "useragent" {
					r.HTTPUserAgent = stringValue(v)
				}
			})
		}
	})
	return r
}

// members calls fn with the key (raw, as written) and the value of each
// member of the JSON object b, in order. It stops quietly at anything that
// is not a well-formed object.
func members(b []byte, fn func(key, val []byte)) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return
	}
	var st []byte
	for i = skipSpace(b, i+1); i < len(b) && b[i] == '"'; {
		ke, err := scanString(b, i, true)
		if err != nil {
			return
		}
		key := b[i+1 : ke-1]
		i = skipSpace(b, ke)
		if i >= len(b) || b[i] != ':' {
			return
		}
		vs := skipSpace(b, i+1)
		if i, st, err = valueEnd(b, vs, true, st[:0]); err != nil {
			return
		}
		fn(key, b[vs:i])
		if i = skipSpace(b, i); i >= len(b) || b[i] != ',' {
			return
		}
		i = skipSpace(b, i+1)
	}
}

// Facts reads the readable story of the event from its CloudTrail record.
// An event without a record gives the envelope's facts only.
func (e *Event) Facts() Facts {
	f := Facts{EventName: e.EventName}
	if e.Record == nil {
		f.EventSource = e.Source
		return f
	}
	r := readFacts(e.Record)
	u := &r.UserIdentity
	f.EventName = r.EventName
	f.EventSource = r.EventSource
	f.PrincipalType = u.Type
	f.PrincipalARN = u.ARN
	f.AccessKeyID = u.AccessKeyID
	f.SourceIP = r.SourceIPAddress
	if f.SourceIP == "" {
		f.SourceIP = r.NetworkClientIP
	}
	f.UserAgent = r.UserAgent
	if f.UserAgent == "" {
		f.UserAgent = r.HTTPUserAgent
	}
	f.ErrorCode = r.ErrorCode
	f.ErrorMessage = r.ErrorMessage
	f.Principal = principal(u.Type, u.UserName, u.ARN, u.PrincipalID, u.InvokedBy, u.SessionContext.SessionIssuer.UserName)

	if r.MFAUsed != "" {
		f.MFA = yesNo(r.MFAUsed)
	} else {
		f.MFA = yesNo(rawString(u.SessionContext.Attributes.MFAAuthenticated))
	}
	f.Outcome = r.Outcome
	return f
}

// principal names who acted, readably.
func principal(typ, userName, arn, principalID, invokedBy, issuer string) string {
	switch typ {
	case "Root":
		if userName != "" {
			return "root (" + userName + ")"
		}
		return "root"
	case "IAMUser", "IdentityCenterUser", "Directory":
		if userName != "" {
			return userName
		}
	case "AssumedRole":
		// arn:aws:sts::123456789012:assumed-role/role/session
		if i := strings.Index(arn, ":assumed-role/"); i >= 0 {
			return arn[i+len(":assumed-role/"):]
		}
		if issuer != "" {
			if _, session, ok := strings.Cut(principalID, ":"); ok {
				return issuer + "/" + session
			}
			return issuer
		}
	case "FederatedUser":
		// arn:aws:sts::123456789012:federated-user/name
		if i := strings.Index(arn, ":federated-user/"); i >= 0 {
			return arn[i+len(":federated-user/"):]
		}
		if _, name, ok := strings.Cut(principalID, ":"); ok {
			return name
		}
	case "AWSService":
		if invokedBy != "" {
			return invokedBy
		}
	case "AWSAccount":
		if principalID != "" {
			return "account " + principalID
		}
	}
	switch {
	case userName != "":
		return userName
	case arn != "":
		return arn
	case invokedBy != "":
		return invokedBy
	case principalID != "":
		return principalID
	}
	return typ
}

// rawString reads a JSON string or literal as text: "x" -> x, true -> true.
func rawString(v json.RawMessage) string {
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1])
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

// stringValue reads a JSON string; anything else gives "".
func stringValue(v []byte) string {
	if len(v) < 2 || v[0] != '"' {
		return ""
	}
	return rawString(v)
}

// yesNo normalises MFA flags: "YES", "Yes", "true" -> "Yes"; "No",
// "false" -> "No"; anything else -> "".
func yesNo(v string) string {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "true":
		return "Yes"
	case "no", "false":
		return "No"
	}
	return ""
}

// Lookup returns the raw JSON value at the path of object keys in the JSON
// object b (for an Event, b is usually e.JSON: Lookup(e.JSON, "detail",
// "userIdentity", "arn")). It reads only what leads to the value.
func Lookup(b []byte, keys ...string) (json.RawMessage, bool) {
	for _, k := range keys {
		var found []byte
		members(b, func(key, val []byte) {
			if string(key) == k {
				found = val // the last of duplicate keys wins, as in decoding
			}
		})
		if found == nil {
			return nil, false
		}
		b = found
	}
	return b, true
}
