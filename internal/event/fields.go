package event

// span is a value's position in a buffer: b[start:end]; end == 0 when absent.
type span struct{ start, end int }

func (s span) ok() bool { return s.end > 0 }

func (s span) of(b []byte) []byte { return b[s.start:s.end] }

// fields are the top-level members of an object that decoding needs, as
// spans of raw JSON values. The last of duplicate keys wins.
type fields struct {
	// CloudTrail record.
	eventTime, timestamp, eventSource, eventName, eventType, eventID    span
	awsRegion, recipientAccountID, userIdentity, readOnly, eventVersion span
	accountID                                                           span // userIdentity.accountId
	// EventBridge envelope.
	version, id, detailType, source, account, time, region, resources, detail span
	// Wrappers.
	messageType, raw, awslogs, data, message span

	// container is the key of an array of records the walk stopped at
	// ("Records" or "logEvents"), whose '[' is at containerAt.
	container   string
	containerAt int
}

// walkObject scans the object at b[i] == '{' and collects its fields. With
// stop set it returns early, with f.container set, at a "Records" or
// "logEvents" member whose value is an array. It returns the index after the
// object (or of the array's '[').
func (s *scanner) walkObject(b []byte, i int, final, stop bool, f *fields) (int, error) {
	*f = fields{}
	i = skipSpace(b, i+1)
	if i >= len(b) {
		return i, short(final)
	}
	if b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) {
			return i, short(final)
		}
		if b[i] != '"' {
			return i, syntaxError(i, "expected object key, found "+quoteByte(b[i]))
		}
		ks := i + 1
		ke, err := scanString(b, i, final)
		if err != nil {
			return ke, err
		}
		key := b[ks : ke-1]
		i = skipSpace(b, ke)
		if i >= len(b) {
			return i, short(final)
		}
		if b[i] != ':' {
			return i, syntaxError(i, "expected colon, found "+quoteByte(b[i]))
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return i, short(final)
		}
		if stop && b[i] == '[' && (string(key) == "Records" || string(key) == "logEvents") {
			f.container = string(key)
			f.containerAt = i
			return i, nil
		}
		vs := i
		if i, err = s.valueEnd(b, i, final); err != nil {
			return i, err
		}
		if p := f.slot(key); p != nil {
			*p = span{vs, i}
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, short(final)
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1, nil
		default:
			return i, syntaxError(i, "unexpected character "+quoteByte(b[i]))
		}
	}
}

// slot returns where to keep the value of key, or nil.
func (f *fields) slot(key []byte) *span {
	switch string(key) {
	case "eventTime":
		return &f.eventTime
	case "@timestamp":
		return &f.timestamp
	case "eventSource":
		return &f.eventSource
	case "eventName":
		return &f.eventName
	case "eventType":
		return &f.eventType
	case "eventID":
		return &f.eventID
	case "awsRegion":
		return &f.awsRegion
	case "recipientAccountId":
		return &f.recipientAccountID
	case "userIdentity":
		return &f.userIdentity
	case "readOnly":
		return &f.readOnly
	case "eventVersion":
		return &f.eventVersion
	case "accountId":
		return &f.accountID
	case "version":
		return &f.version
	case "id":
		return &f.id
	case "detail-type":
		return &f.detailType
	case "source":
		return &f.source
	case "account":
		return &f.account
	case "time":
		return &f.time
	case "region":
		return &f.region
	case "resources":
		return &f.resources
	case "detail":
		return &f.detail
	case "messageType":
		return &f.messageType
	case "_raw":
		return &f.raw
	case "awslogs":
		return &f.awslogs
	case "message":
		return &f.message
	case "data":
		return &f.data
	}
	return nil
}
