package event

import (
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

// factsRecord is the part of a CloudTrail record Facts reads. Fields that
// real data sometimes gives other types decode through json.RawMessage.
type factsRecord struct {
	EventName       string `json:"eventName"`
	EventSource     string `json:"eventSource"`
	SourceIPAddress string `json:"sourceIPAddress"`
	UserAgent       string `json:"userAgent"`
	ErrorCode       string `json:"errorCode"`
	ErrorMessage    string `json:"errorMessage"`
	UserIdentity    struct {
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
	} `json:"userIdentity"`
	AdditionalEventData map[string]json.RawMessage `json:"additionalEventData"`
	ResponseElements    map[string]json.RawMessage `json:"responseElements"`
	// Datadog-export-enriched records move sourceIPAddress and userAgent.
	Network struct {
		Client struct {
			IP string `json:"ip"`
		} `json:"client"`
	} `json:"network"`
	HTTP struct {
		UserAgent string `json:"useragent"`
	} `json:"http"`
}

// Facts reads the readable story of the event from its CloudTrail record.
// An event without a record gives the envelope's facts only.
func (e *Event) Facts() Facts {
	f := Facts{EventName: e.EventName}
	if e.Record == nil {
		f.EventSource = e.Source
		return f
	}
	var r factsRecord
	// Fields of unexpected types are skipped, not fatal: decode what we can
	// member by member when the whole does not decode.
	if json.Unmarshal(e.Record, &r) != nil {
		r = factsRecord{}
		var m map[string]json.RawMessage
		if json.Unmarshal(e.Record, &m) == nil {
			for k, v := range m {
				one, _ := json.Marshal(map[string]json.RawMessage{k: v})
				_ = json.Unmarshal(one, &r)
			}
		}
	}
	u := &r.UserIdentity
	f.EventName = r.EventName
	f.EventSource = r.EventSource
	f.PrincipalType = u.Type
	f.PrincipalARN = u.ARN
	f.AccessKeyID = u.AccessKeyID
	f.SourceIP = r.SourceIPAddress
	if f.SourceIP == "" {
		f.SourceIP = r.Network.Client.IP
	}
	f.UserAgent = r.UserAgent
	if f.UserAgent == "" {
		f.UserAgent = r.HTTP.UserAgent
	}
	f.ErrorCode = r.ErrorCode
	f.ErrorMessage = r.ErrorMessage
	f.Principal = principal(u.Type, u.UserName, u.ARN, u.PrincipalID, u.InvokedBy, u.SessionContext.SessionIssuer.UserName)

	if v := rawString(r.AdditionalEventData["MFAUsed"]); v != "" {
		f.MFA = yesNo(v)
	} else {
		f.MFA = yesNo(rawString(u.SessionContext.Attributes.MFAAuthenticated))
	}
	for _, k := range [...]string{"ConsoleLogin", "SwitchRole", "CheckMfa", "PasswordUpdated", "UserAuthentication", "CredentialVerification", "CredentialChallenge", "ExternalIdPDirectoryLogin"} {
		if v := rawString(r.ResponseElements[k]); v != "" {
			f.Outcome = v
			break
		}
	}
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
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
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
